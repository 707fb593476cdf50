import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SegmentReady } from '../schemas/generated/events.ts';
import { initFile, partFile, segmentFile } from './files.ts';
import { BoxSplitter, parseFragment, parseInit } from './cmaf-boxes.ts';

/**
 * What a run that died left in a rendition's folder, made whole before the next run starts: the
 * segment it was cutting when it died is assembled from the parts it had written (players near
 * the live edge already saw them), and the newest complete segment is announced again in case
 * its announcement was lost with the process (the packager drops a repeat). Without this, a
 * restart lost up to a segment of the recording and left a hole in the live playlist.
 *
 * `files` is the folder's listing.
 */
export async function recoverRendition(
  dir: string,
  uriPrefix: string,
  files: readonly string[],
  frameRate: number,
): Promise<Array<{ type: 'SegmentReady' } & SegmentReady>> {
  const segments = numbers(files, /^(\d{6,})\.m4s$/);
  const parts = numbers(files, /^(\d{6,})\.\d{1,3}\.m4s$/);
  const inits = numbers(files, /^init-(\d{6,})\.mp4$/);
  const lastComplete = segments.at(-1) ?? -1;
  const unfinished = parts.filter((s) => s > lastComplete).at(-1);
  const out: Array<{ type: 'SegmentReady' } & SegmentReady> = [];
  if (lastComplete >= 0) {
    const found = await describe(dir, [segmentFile(lastComplete)], initOf(inits, lastComplete), frameRate);
    if (found) out.push(announcement(uriPrefix, lastComplete, found, initOf(inits, lastComplete)));
  }
  if (unfinished !== undefined) {
    const names: string[] = [];
    for (let i = 0; files.includes(partFile(unfinished, i)); i++) names.push(partFile(unfinished, i));
    const found = names.length ? await describe(dir, names, initOf(inits, unfinished), frameRate) : null;
    if (found) {
      const path = join(dir, segmentFile(unfinished));
      await writeFile(`${path}.tmp`, found.bytes);
      await rename(`${path}.tmp`, path);
      out.push(announcement(uriPrefix, unfinished, found, initOf(inits, unfinished)));
    }
  }
  return out;
}

interface Described {
  bytes: Buffer;
  frames: number;
  durationMs: number;
  programDateTime: number;
}

/** The files end to end, their video frames, and a date from the first one's mtime. */
async function describe(
  dir: string,
  names: string[],
  init: number | undefined,
  frameRate: number,
): Promise<Described | null> {
  if (init === undefined) return null;
  try {
    const tracks = parseInit(firstBox(await readFile(join(dir, initFile(init))), 'moov'));
    const video = tracks.find((t) => t.kind === 'video');
    if (!video) return null;
    const bytes = Buffer.concat(await Promise.all(names.map((n) => readFile(join(dir, n)))));
    let frames = 0;
    for (const box of new BoxSplitter().push(bytes)) {
      if (box.type !== 'moof') continue;
      for (const run of parseFragment(box.bytes, tracks)) if (run.trackId === video.id) frames += run.samples;
    }
    if (!frames) return null;
    const durationMs = Math.floor((frames * 1000) / frameRate);
    const written = (await stat(join(dir, names.at(-1)!))).mtimeMs;
    return { bytes, frames, durationMs, programDateTime: Math.round(written - durationMs) };
  } catch {
    // Unreadable leftovers are left as they are: the new run starts after them all the same.
    return null;
  }
}

function announcement(
  uriPrefix: string,
  sequence: number,
  d: Described,
  init: number | undefined,
): { type: 'SegmentReady' } & SegmentReady {
  return {
    type: 'SegmentReady',
    rendition: uriPrefix,
    sequence,
    durationMs: d.durationMs,
    uri: `${uriPrefix}/${segmentFile(sequence)}`,
    bytes: d.bytes.length,
    programDateTime: d.programDateTime,
    // The first segment of a run that followed another one is where that run's discontinuity is.
    discontinuity: sequence === init && sequence > 0,
    initUri: init === undefined ? null : `${uriPrefix}/${initFile(init)}`,
  };
}

function firstBox(bytes: Buffer, type: string): Buffer {
  const box = new BoxSplitter().push(bytes).find((b) => b.type === type);
  if (!box) throw new Error(`no ${type} box`);
  return box.bytes;
}

const initOf = (inits: number[], sequence: number): number | undefined => inits.filter((i) => i <= sequence).at(-1);

function numbers(files: readonly string[], re: RegExp): number[] {
  const out = new Set<number>();
  for (const f of files) {
    const m = re.exec(f);
    if (m) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}
