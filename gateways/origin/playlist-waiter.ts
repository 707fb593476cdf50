import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { blockingDecision, holdLimitMs, playlistPosition, type PlaylistPosition } from './blocking.ts';

export type WaitResult =
  | { kind: 'ready'; position: PlaylistPosition }
  | { kind: 'missing' | 'not-media' | 'too-far' | 'timeout' | 'cancelled' };

interface Waiter {
  msn: number;
  done: (r: WaitResult) => void;
}

interface Folder {
  watcher: FSWatcher | null;
  poll: NodeJS.Timeout;
  /** Playlist file name -> requests waiting on it. */
  files: Map<string, Set<Waiter>>;
  /** Files being re-read, and files to re-read once that read is done. */
  reading: Set<string>;
  again: Set<string>;
}

/**
 * Holds blocking playlist requests until their segment is listed. The packager replaces a
 * playlist by renaming a new file over it, so the stream's folder is watched (a watch on the file
 * would follow the replaced inode), once per folder while requests wait there, and a playlist is
 * re-read once per change however many requests wait on it. A slow poll backs the watch up where
 * the filesystem's notifications are unreliable (network mounts).
 */
export class PlaylistWaiter {
  private readonly folders = new Map<string, Folder>();

  constructor(private readonly pollMs = 250) {}

  /** Resolves when `file` lists `msn` (or ends), or with why it will not. */
  async wait(file: string, msn: number, signal: AbortSignal): Promise<WaitResult> {
    const now = await this.position(file);
    if (now === 'missing' || now === 'not-media') return { kind: now };
    const decision = blockingDecision(now, msn);
    if (decision === 'serve') return { kind: 'ready', position: now };
    if (decision === 'too-far') return { kind: 'too-far' };
    if (signal.aborted) return { kind: 'cancelled' };

    const dir = dirname(file);
    const name = basename(file);
    return new Promise<WaitResult>((resolve) => {
      const folder = this.folder(dir);
      let waiters = folder.files.get(name);
      if (!waiters) folder.files.set(name, (waiters = new Set()));
      const waiter: Waiter = {
        msn,
        done: (r) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          waiters.delete(waiter);
          if (!waiters.size) folder.files.delete(name);
          if (!folder.files.size) this.release(dir);
          resolve(r);
        },
      };
      const onAbort = (): void => waiter.done({ kind: 'cancelled' });
      const timer = setTimeout(() => waiter.done({ kind: 'timeout' }), holdLimitMs(now));
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(waiter);
      // The playlist may have changed between the first read and the watch starting.
      this.recheck(dir, name);
    });
  }

  /** Answers every held request (as cancelled) and stops watching. */
  close(): void {
    for (const folder of [...this.folders.values()]) {
      for (const waiters of [...folder.files.values()]) for (const w of [...waiters]) w.done({ kind: 'cancelled' });
    }
  }

  get held(): number {
    let n = 0;
    for (const f of this.folders.values()) for (const w of f.files.values()) n += w.size;
    return n;
  }

  private folder(dir: string): Folder {
    let folder = this.folders.get(dir);
    if (folder) return folder;
    let watcher: FSWatcher | null = null;
    try {
      watcher = watch(dir, { persistent: false }, (_event, changed) => {
        if (changed === null) for (const name of folder!.files.keys()) this.recheck(dir, name);
        else if (folder!.files.has(String(changed))) this.recheck(dir, String(changed));
      });
      watcher.on('error', () => undefined);
    } catch {
      // No notifications here: the poll alone keeps the requests moving.
    }
    const poll = setInterval(() => {
      for (const name of folder!.files.keys()) this.recheck(dir, name);
    }, this.pollMs);
    poll.unref();
    folder = { watcher, poll, files: new Map(), reading: new Set(), again: new Set() };
    this.folders.set(dir, folder);
    return folder;
  }

  private release(dir: string): void {
    const folder = this.folders.get(dir);
    if (!folder) return;
    folder.watcher?.close();
    clearInterval(folder.poll);
    this.folders.delete(dir);
  }

  private recheck(dir: string, name: string): void {
    const folder = this.folders.get(dir);
    if (!folder) return;
    if (folder.reading.has(name)) {
      folder.again.add(name);
      return;
    }
    folder.reading.add(name);
    void this.position(`${dir}/${name}`).then((p) => {
      folder.reading.delete(name);
      const waiters = folder.files.get(name);
      // A playlist being replaced, or not one now: the requests keep waiting until their limit.
      if (waiters && typeof p !== 'string') {
        for (const w of [...waiters])
          if (blockingDecision(p, w.msn) === 'serve') w.done({ kind: 'ready', position: p });
      }
      if (folder.again.delete(name)) this.recheck(dir, name);
    });
  }

  private async position(file: string): Promise<PlaylistPosition | 'missing' | 'not-media'> {
    try {
      return playlistPosition(await readFile(file, 'utf8')) ?? 'not-media';
    } catch {
      return 'missing';
    }
  }
}
