import type { ViewerHeartbeat } from '../../schemas/generated/events.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import type { ViewerMetrics } from './metrics.ts';

/**
 * Heartbeats leave the gateway in batches: one produce request per `lingerMs` (or per `maxBatch`)
 * instead of one per socket frame, so 20,000 players cost a few requests a second. A failed send
 * is retried in order with backoff; the queue is bounded, and what does not fit is dropped and
 * counted (a heartbeat is worth little once the next one is due).
 */
export interface BatcherOptions {
  lingerMs: number;
  maxBatch: number;
  maxQueued: number;
}

export class HeartbeatBatcher implements Component {
  readonly name = 'heartbeat-batcher';
  private queue: ViewerHeartbeat[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private backoffMs = 0;

  constructor(
    private readonly send: (events: ViewerHeartbeat[]) => Promise<void>,
    private readonly opts: BatcherOptions,
    private readonly log: Logger,
    private readonly metrics: ViewerMetrics,
  ) {}

  async start(): Promise<void> {}

  push(hb: ViewerHeartbeat): void {
    if (this.queue.length >= this.opts.maxQueued) {
      this.metrics.dropped.inc();
      return;
    }
    this.queue.push(hb);
    this.metrics.queued.set(this.queue.length);
    if (this.queue.length >= this.opts.maxBatch) this.kick(0);
    else this.kick(this.opts.lingerMs);
  }

  /** Sends what is queued (one more try each), for shutdown after the sockets are closed. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    this.backoffMs = 0;
    while (this.queue.length && (await this.flushOnce())) {
      /* until empty or a failure */
    }
  }

  private kick(delayMs: number): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushOnce().then((ok) => {
        this.flushing = undefined;
        if (this.queue.length) this.kick(ok ? 0 : this.backoffMs);
      });
    }, delayMs);
  }

  private async flushOnce(): Promise<boolean> {
    const batch = this.queue.slice(0, this.opts.maxBatch);
    try {
      await this.send(batch);
      this.queue.splice(0, batch.length);
      this.metrics.queued.set(this.queue.length);
      this.backoffMs = 0;
      return true;
    } catch (err) {
      this.backoffMs = Math.min(5000, Math.max(100, this.backoffMs * 2));
      this.log.warn({ err, queued: this.queue.length, retryInMs: this.backoffMs }, 'could not send heartbeats');
      return false;
    }
  }
}
