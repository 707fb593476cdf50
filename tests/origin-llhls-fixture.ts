import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * LL-HLS files as the media worker and the packager write them (contract of issue #20), for the
 * origin's and the edge's specs: written by hand rather than by the packager's renderer, so these
 * specs hold the origin to the contract and not to one renderer's output.
 */
export const mediaName = (rendition: string, msn: number, part?: number): string =>
  `${rendition}/${String(msn).padStart(6, '0')}${part === undefined ? '' : `.${part}`}.m4s`;

export interface LlhlsPlaylist {
  rendition?: string;
  /** MEDIA-SEQUENCE. */
  first?: number;
  /** The last complete segment (EXTINF); `first - 1` for none. */
  complete: number;
  /** Parts of segment `complete + 1` listed so far (the segment in progress). */
  open: number;
  partsPerSegment?: number;
  targetDurationS?: number;
  partTargetS?: number;
  ended?: boolean;
}

/**
 * A live media playlist: every complete segment, the last two with their parts, the parts of the
 * one in progress, and a preload hint at the next part. Ended: no parts in progress, no hint.
 */
export function llhlsPlaylist(o: LlhlsPlaylist): string {
  const r = o.rendition ?? '720p';
  const first = o.first ?? 40;
  const perSegment = o.partsPerSegment ?? 6;
  const partTarget = o.partTargetS ?? 0.334;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${o.targetDurationS ?? 2}`,
    `#EXT-X-PART-INF:PART-TARGET=${partTarget}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${(3 * partTarget).toFixed(3)},HOLD-BACK=6`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    '#EXT-X-DISCONTINUITY-SEQUENCE:0',
    `#EXT-X-MAP:URI="${r}/init-000000.mp4"`,
  ];
  const parts = (msn: number, n: number): string[] =>
    Array.from(
      { length: n },
      (_, i) => `#EXT-X-PART:DURATION=0.333,URI="${mediaName(r, msn, i)}"${i === 0 ? ',INDEPENDENT=YES' : ''}`,
    );
  for (let msn = first; msn <= o.complete; msn++) {
    if (msn >= o.complete - 1) lines.push(...parts(msn, perSegment));
    lines.push('#EXTINF:2.000,', mediaName(r, msn));
  }
  if (o.ended) return [...lines, '#EXT-X-ENDLIST', ''].join('\n');
  lines.push(...parts(o.complete + 1, o.open));
  const next = o.open < perSegment ? mediaName(r, o.complete + 1, o.open) : mediaName(r, o.complete + 2, 0);
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${next}"`, '');
  return lines.join('\n');
}

/** Written as the worker and the packager write: `<name>.tmp`, then renamed into place. */
export function publish(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** A stream folder's rendition playlist and media paths. */
export const streamFiles = (root: string, streamId: string, rendition = '720p') => ({
  playlist: join(root, streamId, `${rendition}.m3u8`),
  media: (msn: number, part?: number): string => join(root, streamId, mediaName(rendition, msn, part)),
  url: (file: string): string => `/hls/${streamId}/${file}`,
});
