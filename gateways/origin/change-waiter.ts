import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export type Held<R> = R | 'timeout' | 'cancelled';

interface Waiter<S> {
  /** True when the state answers this request (which is then done). */
  offer: (state: S) => boolean;
  done: (r: Held<never>) => void;
}

interface Watched<S> {
  waiters: Set<Waiter<S>>;
  /** When requests started waiting on the file: every change since then leads to a read. */
  since: number;
  /** The last read, and when it started. */
  last?: { state: S; at: number };
}

interface Folder<S> {
  watcher: FSWatcher | null;
  poll: NodeJS.Timeout;
  /** File name -> requests waiting on it. */
  files: Map<string, Watched<S>>;
  /** Files being read, and files to read again once that read is done. */
  reading: Set<string>;
  again: Set<string>;
}

/**
 * Holds requests until a file reaches the state they wait for: the cost of a held request is a
 * closure and a timer, and the cost of a change is one read of the file however many requests
 * wait on it (a read in flight when another change comes is followed by exactly one more), plus a
 * test per waiter. A request joining others on a file needs no read of its own: it is given the
 * last read when that began after its caller's own look, and otherwise the watch, which already
 * covers every change since its caller looked. The workers and the packager put files in place by renaming, so the folder is
 * watched (a watch on the file would follow the replaced inode), once per folder while requests
 * wait there; a slow poll backs the watch up where notifications are unreliable (network mounts).
 */
export class ChangeWaiter<S> {
  private readonly folders = new Map<string, Folder<S>>();
  /** Reads done for held requests (after their first), for the origin's metrics and specs. */
  reads = 0;

  /** `read` answers every failure as a state of its own: it never rejects. */
  constructor(
    private readonly read: (path: string) => Promise<S>,
    private readonly pollMs = 250,
  ) {}

  /**
   * Resolves with `accept`'s first answer other than undefined, from a state read after `since`
   * (performance.now() when the caller began its own look at the file, which found it wanting).
   */
  hold<R>(
    path: string,
    accept: (state: S) => R | undefined,
    o: { since: number; limitMs: number; signal: AbortSignal },
  ): Promise<Held<R>> {
    const { since, limitMs, signal } = o;
    if (signal.aborted) return Promise.resolve('cancelled');
    const dir = dirname(path);
    const name = basename(path);
    return new Promise<Held<R>>((resolve) => {
      const folder = this.folder(dir);
      let watched = folder.files.get(name);
      const fresh = !watched;
      if (!watched) folder.files.set(name, (watched = { waiters: new Set(), since: performance.now() }));
      const { waiters } = watched;
      const finish = (r: Held<R>): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        waiters.delete(waiter);
        if (!waiters.size) folder.files.delete(name);
        if (!folder.files.size) this.release(dir);
        resolve(r);
      };
      const waiter: Waiter<S> = {
        offer: (state) => {
          const r = accept(state);
          if (r === undefined) return false;
          finish(r);
          return true;
        },
        done: finish,
      };
      const onAbort = (): void => finish('cancelled');
      const timer = setTimeout(() => finish('timeout'), limitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(waiter);
      if (watched.last && watched.last.at >= since) waiter.offer(watched.last.state);
      // The file may have changed between the caller's look and the watch covering it.
      else if (fresh || watched.since > since) this.recheck(dir, name);
    });
  }

  /** Answers every held request (as cancelled) and stops watching. */
  close(): void {
    for (const folder of [...this.folders.values()]) {
      for (const { waiters } of [...folder.files.values()]) for (const w of [...waiters]) w.done('cancelled');
    }
  }

  get held(): number {
    let n = 0;
    for (const f of this.folders.values()) for (const w of f.files.values()) n += w.waiters.size;
    return n;
  }

  private folder(dir: string): Folder<S> {
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
      // No notifications here (or no folder yet): the poll alone keeps the requests moving.
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
    this.reads++;
    const at = performance.now();
    void this.read(`${dir}/${name}`).then((state) => {
      folder.reading.delete(name);
      const watched = folder.files.get(name);
      if (watched) {
        watched.last = { state, at };
        for (const w of [...watched.waiters]) w.offer(state);
      }
      if (folder.again.delete(name)) this.recheck(dir, name);
    });
  }
}
