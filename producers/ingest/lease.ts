import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { IngestLease } from '../../schemas/generated/events.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { leaseEvent } from '../../domain/ingest/leases.ts';

/**
 * This ingest node's lease on live.ingest.leases (domain/ingest/leases.ts): renewed every
 * `intervalMs` for `ttlMs` while the process runs, released on a clean stop. Start resolves
 * once the first lease is acknowledged, so the node holds a lease before it accepts a publisher
 * (main.ts starts it before the RTMP listener) and its streams are never unleased. Stop comes
 * after the listener's (its publishers closed, their streams ended), so a release means nothing is
 * left live here. A renewal that fails is logged and retried at the next tick; one that fails
 * for longer than the ttl lets the lease run out, and the ingest watchdog then ends this node's
 * streams after the grace (its sweep here then cuts their publishers, as for any stream ended
 * elsewhere).
 */
export interface LeaseDeps {
  nodeId: string;
  intervalMs: number;
  ttlMs: number;
  publish: (leases: IngestLease[]) => Promise<void>;
  log: Logger;
  metrics: Metrics;
  clock?: () => number;
}

export class IngestLeaseKeeper implements Component {
  readonly name = 'lease';
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly renewals: Counter<'result'>;
  private readonly validUntil: Gauge;

  constructor(private readonly deps: LeaseDeps) {
    this.now = deps.clock ?? Date.now;
    const registers = [deps.metrics.registry];
    this.renewals = new Counter({
      name: 'live_ingest_lease_renewals_total',
      help: "This node's lease renewals on live.ingest.leases, by result (ok, failed)",
      labelNames: ['result'],
      registers,
    });
    this.validUntil = new Gauge({
      name: 'live_ingest_lease_valid_until_seconds',
      help: "Until when this node's acknowledged lease holds (Unix time); 0 once released",
      registers,
    });
  }

  async start(): Promise<void> {
    await this.renew();
    this.deps.log.info(
      { nodeId: this.deps.nodeId, ttlMs: this.deps.ttlMs, intervalMs: this.deps.intervalMs },
      'lease held',
    );
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing;
    const release = leaseEvent(this.deps.nodeId, this.now(), this.deps.ttlMs, randomUUID(), true);
    try {
      await this.deps.publish([release]);
      this.validUntil.set(0);
      this.deps.log.info({ nodeId: this.deps.nodeId }, 'lease released');
    } catch (err) {
      // The lease then runs out on its own: the watchdog finds nothing live here (we ended it all).
      this.deps.log.warn({ err, nodeId: this.deps.nodeId }, 'could not release the lease');
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.renewing = this.renew()
        .catch((err: unknown) => {
          this.renewals.inc({ result: 'failed' });
          this.deps.log.warn({ err, nodeId: this.deps.nodeId }, 'lease renewal failed; retrying');
        })
        .finally(() => this.schedule());
    }, this.deps.intervalMs);
  }

  private async renew(): Promise<void> {
    const lease = leaseEvent(this.deps.nodeId, this.now(), this.deps.ttlMs, randomUUID());
    await this.deps.publish([lease]);
    this.renewals.inc({ result: 'ok' });
    this.validUntil.set(lease.validUntil / 1000);
  }
}
