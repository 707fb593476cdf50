import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readCode } from './bar-code.ts';
import { now, pct, sleep } from './live-rig.ts';

/**
 * Where the time goes before a player sees media, for one rendition of one of our streams, from
 * what can be measured outside the services while a glass-to-glass measurement runs:
 *
 *   capture ──(1)── file on disk ──(2)── listed in the edge's playlist ──(3)── ... player
 *
 * (1) capture -> on disk: the worker's output folder is listed every `pollMs`; each new media file's
 *     mtime is when it was complete (the worker renames finished files into place; ffmpeg's
 *     MPEG-TS segments are last written when closed). Files that start with a keyframe (part 0 of
 *     a segment, an MPEG-TS segment) are copied aside, and their first frame's bar code read after
 *     the run (so the decoding does not load the machine during the measurement): the part was on
 *     disk `mtime - (publisher start + code)` after its first frame was made. That includes the
 *     part's own duration (its last frame is made that much later), reported beside it.
 * (2) on disk -> listed at the edge: the rendition's playlist is read through the edge with
 *     blocking reloads as hls.js's low-latency mode does (`_HLS_msn`/`_HLS_part` of the next part,
 *     or `_HLS_msn` of the next segment on a playlist without parts); the moment a part (or, with
 *     no parts, a segment) is first listed minus its mtime. The watcher is one more client of the
 *     edge, which collapses identical blocking requests, so it sees what the player sees.
 * Also per keyframe file: its last frame's capture -> listed, (1) - duration + (2), which the
 * glass bench sets against the player's "age of the newest media when its playlist arrived".
 *
 * Clocks: mtimes are the system's wall clock, converted to this process's `now()` (both read
 * the same machine clock).
 */
export interface HopWatchOptions {
  /** The rendition's folder under MEDIA_ROOT. */
  dir: string;
  /** The same rendition's media playlist through the edge. */
  playlist: string;
  ffmpeg: string;
  pollMs?: number;
}

export interface Hops {
  /** Per keyframe file: its first frame made -> on disk, ms. */
  captureToDisk: number[];
  /** Per keyframe file: its own duration (from the playlist), ms. */
  duration: number[];
  /** Per part (per segment without parts): on disk -> first listed at the edge, ms. */
  diskToListed: number[];
  /** Per keyframe file: its last frame made -> first listed at the edge, ms. */
  endToListed: number[];
  /** Whether the playlist listed LL-HLS parts. */
  parts: boolean;
  /** Files whose bar code could not be read. */
  unread: number;
}

/** A media playlist's media files in order, parts and segments alike (enough of RFC 8216bis for this). */
export interface ListedMedia {
  mediaSequence: number;
  hasParts: boolean;
  /** Each part (`part` >= 0) and whole segment (`part` null) listed, with its duration in s. */
  items: Array<{ uri: string; sequence: number; part: number | null; duration: number }>;
  /** The next blocking request for something not yet listed. */
  next: { msn: number; part: number | null };
}

export function listMedia(text: string): ListedMedia {
  const mediaSequence = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)/m.exec(text)?.[1] ?? 0);
  const hasParts = /^#EXT-X-PART-INF:/m.test(text);
  const items: ListedMedia['items'] = [];
  let sequence = mediaSequence;
  let part = 0;
  let extinf = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-PART:')) {
      const uri = /URI="([^"]+)"/.exec(line)?.[1];
      const duration = Number(/DURATION=([\d.]+)/.exec(line)?.[1] ?? 0);
      if (uri) items.push({ uri, sequence, part: part++, duration });
    } else if (line.startsWith('#EXTINF:')) extinf = Number(line.slice(8).split(',')[0]);
    else if (line && !line.startsWith('#')) {
      items.push({ uri: line, sequence: sequence++, part: null, duration: extinf });
      part = 0;
    }
  }
  const last = items.at(-1);
  const next =
    hasParts && last
      ? last.part === null
        ? { msn: last.sequence + 1, part: 0 }
        : { msn: last.sequence, part: last.part + 1 }
      : { msn: sequence, part: null };
  return { mediaSequence, hasParts, items, next };
}

const MEDIA_FILE = /^\d{6,}(\.\d{1,3})?\.(ts|m4s)$/;
/** Starts with a keyframe, so its first frame decodes alone (with its init section when fMP4). */
const KEYFRAME_FILE = /^\d{6,}(\.0\.m4s|\.ts)$/;
const INIT_FILE = /^init-(\d{6,})\.mp4$/;

/** Watches until `stop()`; then reads the copied files' bar codes and returns the hops. */
export function watchHops(o: HopWatchOptions, startedAt: () => number): { stop: () => Promise<Hops> } {
  const aside = mkdtempSync(join(tmpdir(), 'bench-hops-'));
  const written = new Map<string, number>();
  const listed = new Map<string, { at: number; duration: number }>();
  const inits: Array<{ from: number; file: string }> = [];
  let parts = false;
  let running = true;

  const pollDisk = async () => {
    while (running) {
      let names: string[] = [];
      try {
        names = readdirSync(o.dir);
      } catch {
        /* not created yet */
      }
      const skew = now() - Date.now();
      for (const name of names) {
        if (written.has(name)) continue;
        const init = INIT_FILE.exec(name);
        if (!init && !MEDIA_FILE.test(name)) continue;
        try {
          const mtime = statSync(join(o.dir, name)).mtimeMs + skew;
          written.set(name, mtime);
          if (init) {
            copyFileSync(join(o.dir, name), join(aside, name));
            inits.push({ from: Number(init[1]), file: join(aside, name) });
          } else if (KEYFRAME_FILE.test(name)) copyFileSync(join(o.dir, name), join(aside, name));
        } catch {
          /* removed in between: the window moved on */
        }
      }
      await sleep(o.pollMs ?? 100);
    }
  };

  const pollPlaylist = async () => {
    let next: ListedMedia['next'] | null = null;
    while (running) {
      const query = next ? `?_HLS_msn=${next.msn}${next.part === null ? '' : `&_HLS_part=${next.part}`}` : '';
      const res = await fetch(`${o.playlist}${query}`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
      const at = now();
      if (res?.status !== 200) {
        await res?.arrayBuffer().catch(() => undefined);
        next = null;
        await sleep(200);
        continue;
      }
      const m = listMedia(await res.text());
      parts ||= m.hasParts;
      // The first answer lists what was made before we looked: it only seeds the map.
      const seeding = listed.size === 0;
      for (const item of m.items) {
        // With parts, a segment is listed after its parts: the parts are what a player fetches first.
        if (m.hasParts && item.part === null) continue;
        const name = basename(item.uri);
        if (!listed.has(name)) listed.set(name, { at: seeding ? NaN : at, duration: item.duration * 1000 });
      }
      next = m.next;
    }
  };

  const loops = Promise.all([pollDisk(), pollPlaylist()]);
  return {
    stop: async () => {
      running = false;
      await loops;
      const out: Hops = { captureToDisk: [], duration: [], diskToListed: [], endToListed: [], parts, unread: 0 };
      for (const [name, l] of listed) {
        const w = written.get(name);
        if (w !== undefined && Number.isFinite(l.at)) out.diskToListed.push(l.at - w);
      }
      for (const [name, w] of written) {
        if (!KEYFRAME_FILE.test(name)) continue;
        const l = listed.get(name);
        if (!l?.duration) continue;
        let input = join(aside, name);
        if (name.endsWith('.m4s')) {
          // The init section of the worker run this part belongs to: the newest one not after it.
          const seq = Number(name.slice(0, name.indexOf('.')));
          const init = inits.filter((i) => i.from <= seq).sort((a, b) => b.from - a.from)[0];
          if (!init) {
            out.unread++;
            continue;
          }
          input = join(aside, `${name}.mp4`);
          writeFileSync(input, Buffer.concat([readFileSync(init.file), readFileSync(join(aside, name))]));
        }
        try {
          const made = startedAt() + (await readCode(input, o.ffmpeg));
          out.captureToDisk.push(w - made);
          out.duration.push(l.duration);
          if (Number.isFinite(l.at)) out.endToListed.push(l.at - (made + l.duration));
        } catch {
          out.unread++;
        }
      }
      rmSync(aside, { recursive: true, force: true });
      return out;
    },
  };
}

/** One line for the console and the notes. */
export const hopsSummary = (h: Hops): string =>
  `${h.parts ? 'LL-HLS parts' : 'whole segments (no parts listed)'}: capture -> on disk p50 ${pct(h.captureToDisk, 50)} ms ` +
  `(p95 ${pct(h.captureToDisk, 95)}; ${h.captureToDisk.length} keyframe files, their own duration p50 ${pct(h.duration, 50)} ms, ` +
  `${h.unread} unread); on disk -> listed at the edge p50 ${pct(h.diskToListed, 50)} ms (p95 ${pct(h.diskToListed, 95)}; ` +
  `${h.diskToListed.length} ${h.parts ? 'parts' : 'segments'}); last frame made -> listed p50 ${pct(h.endToListed, 50)} ms`;
