import { stat } from 'node:fs/promises';
import { ChangeWaiter } from './change-waiter.ts';

/**
 * Holds requests for a segment or part the worker is about to write (`<name>.tmp`, then renamed
 * into place) until the file is there: one stat per change of that name, however many wait.
 */
export class FileWaiter {
  readonly changes = new ChangeWaiter<boolean>((path) =>
    stat(path).then(
      (s) => s.isFile(),
      () => false,
    ),
  );

  /** `since`: performance.now() before the caller found the file missing. */
  wait(
    file: string,
    o: { since: number; limitMs: number; signal: AbortSignal },
  ): Promise<'ready' | 'timeout' | 'cancelled'> {
    return this.changes.hold(file, (there) => (there ? 'ready' : undefined), o);
  }
}
