/**
 * Read-your-writes for a projection: a caller about to publish an event waits until this
 * instance has applied it (`whenApplied`), and the projection says so as it applies each event
 * (`applied`). Register before publishing, so an event applied before the publish call returns
 * is not missed.
 */
export class AppliedWaiters {
  private readonly waiters = new Map<string, () => void>();

  /** Resolves true once `eventId` is applied here, false if it is not within `timeoutMs`. */
  whenApplied(eventId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(false), timeoutMs);
      const settle = (applied: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(eventId);
        resolve(applied);
      };
      this.waiters.set(eventId, () => settle(true));
    });
  }

  applied(eventId: string): void {
    this.waiters.get(eventId)?.();
  }
}
