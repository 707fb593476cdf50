import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TransientError } from '../../platform/errors.ts';
import { layout } from '../../domain/media/layout.ts';
import type { SegmentEntry } from './playlists.ts';
import type { StreamPackage } from './state.ts';

/**
 * The packager's files. Playlists and state are replaced atomically (written beside, then
 * renamed), so a reader sees the old file or the new one, never half of one. The journal is
 * append-only: a redelivered record may repeat a line, and readers keep the last per sequence.
 *
 * Two roots: `out` is where playlists and state go; `segments` is where the workers' files are
 * checked. They are the same in production; a rebuild apart writes elsewhere and checks the live
 * segments.
 *
 * A failing disk (full, read-only) is a TransientError: the consumer retries without committing,
 * so nothing is lost and the records apply once space is back.
 */
export class PackagerStorage {
  constructor(
    readonly out: string,
    readonly segments: string,
  ) {}

  private path(streamId: string, rel: string): string {
    return join(this.out, streamId, rel);
  }

  async write(streamId: string, rel: string, text: string): Promise<void> {
    const file = this.path(streamId, rel);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await io(`write ${file}`, async () => {
      await mkdir(dirname(file), { recursive: true });
      try {
        await writeFile(tmp, text);
        await rename(tmp, file);
      } catch (err) {
        // A full disk leaves a partial temporary file: remove it so it does not hold the space.
        await rm(tmp, { force: true }).catch(() => undefined);
        throw err;
      }
    });
  }

  async loadState(streamId: string): Promise<StreamPackage | undefined> {
    const text = await readIfExists(this.path(streamId, layout.state));
    return text === undefined ? undefined : (JSON.parse(text) as StreamPackage);
  }

  saveState(state: StreamPackage): Promise<void> {
    return this.write(state.streamId, layout.state, JSON.stringify(state));
  }

  async append(streamId: string, rendition: string, segments: SegmentEntry[]): Promise<void> {
    const file = this.path(streamId, layout.journal(rendition));
    await io(`append ${file}`, async () => {
      await mkdir(dirname(file), { recursive: true });
      await appendFile(file, segments.map((s) => `${JSON.stringify(s)}\n`).join(''));
    });
  }

  async journal(streamId: string, rendition: string): Promise<SegmentEntry[]> {
    const text = (await readIfExists(this.path(streamId, layout.journal(rendition)))) ?? '';
    // A crash mid-append can leave a torn last line: that record was never committed and comes again.
    return text
      .split('\n')
      .filter((line) => line.endsWith('}'))
      .map((line) => JSON.parse(line) as SegmentEntry);
  }

  /** Whether a segment's file is in place. */
  async present(streamId: string, uri: string): Promise<boolean> {
    try {
      return (await stat(join(this.segments, streamId, uri))).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new TransientError(`stat ${uri}: ${(err as Error).message}`, { cause: err });
    }
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TransientError(`read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function io(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw new TransientError(`${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** The stream folders under a media root (none when the root does not exist yet). */
export async function streamsUnder(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
