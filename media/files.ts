/**
 * Names of what a worker writes in a rendition's folder (domain/media/layout.ts has the whole
 * tree): the origin's path rules (domain/media/hls-paths.ts) accept exactly these.
 */
const pad = (n: number): string => String(n).padStart(6, '0');

/** 42 -> '000042.m4s': a CMAF segment. */
export const segmentFile = (sequence: number): string => `${pad(sequence)}.m4s`;

/** 42, 3 -> '000042.3.m4s': part 3 of segment 42. */
export const partFile = (sequence: number, part: number): string => `${pad(sequence)}.${part}.m4s`;

/** 40 -> 'init-000040.mp4': the init section of the run whose first segment is 40. */
export const initFile = (startNumber: number): string => `init-${pad(startNumber)}.mp4`;

/**
 * The highest segment number any file of a rendition's folder belongs to ('000042.ts',
 * '000042.m4s', '000042.3.m4s'); -1 when none. A new run starts after it, so it never rewrites a
 * name an edge may have cached as immutable.
 */
export function highestSequence(files: readonly string[]): number {
  let max = -1;
  for (const f of files) {
    const m = /^(\d{6,})(?:\.\d{1,3})?\.(?:ts|m4s)$/.exec(f);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** 3 -> '000003.jpg': a thumbnail. */
export const thumbnailFile = (n: number): string => `${pad(n)}.jpg`;

/** Highest number among thumbnails named like '000003.jpg'; -1 when none. */
export function highestThumbnail(files: readonly string[]): number {
  let max = -1;
  for (const f of files) {
    const m = /^(\d{6,})\.jpg$/.exec(f);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}
