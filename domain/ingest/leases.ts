import { createHash } from 'node:crypto';
import type { IngestLease, StreamLifecycleEvent } from '../../schemas/generated/events.ts';

/**
 * Ingest node leases (issue #24): which live streams sit on an ingest node that is gone.
 *
 * Every ingest node renews a lease on live.ingest.leases (keyed by node, compacted) every few
 * seconds and releases it when it stops. A node that stops renewing (SIGKILL, a dead machine, a
 * partition from Kafka) is presumed lost once its lease runs out: its encoders' connections are
 * gone with it. Each stream still live on it then gets the same reconnect grace a dropped encoder
 * gets on a live node; a StreamWentLive from another node within that time (the encoder
 * reconnected elsewhere) moves the stream there, and only streams still on the lost node when the
 * grace has passed are ended (StreamEnded INGEST_NODE_LOST).
 *
 *   lost at   = max(lease validUntil, the stream's StreamWentLive on that node)
 *   ends when = now >= lost at + grace, the stream's newest StreamWentLive still naming the node
 *
 * The max(): the node was alive when it announced the stream, whichever topic was read first.
 * A node with no lease on record (an ingest from before leases, or a lease not read yet) is
 * never presumed lost: its streams are left as they are and counted as `unleased`.
 * Times are the nodes' clocks against the watchdog's: the grace absorbs a few seconds of skew.
 * Pure state and decisions; no I/O, no clock of its own.
 */
export interface NodeLease {
  nodeId: string;
  /** When the lease runs out (the release time for a released lease). */
  validUntil: number;
  released: boolean;
}

/** A live stream and the node its newest StreamWentLive named. */
export interface StreamOnNode {
  streamId: string;
  nodeId: string;
  /** occurredAt of that StreamWentLive. */
  since: number;
  /** eventId of that StreamWentLive: names this broadcast on this node (see `nodeLossEventId`). */
  wentLiveEventId: string;
}

/** A stream to end: its node's lease ran out at `lostAt`, and the grace after it has passed. */
export interface LostStream extends StreamOnNode {
  lostAt: number;
}

/** A node whose lease has run out, with the live streams still on it (to end now, or waiting). */
export interface ExpiredNode {
  nodeId: string;
  validUntil: number;
  released: boolean;
  ending: LostStream[];
  waiting: StreamOnNode[];
}

export class IngestLeases {
  private readonly leases = new Map<string, NodeLease>();
  private readonly live = new Map<string, StreamOnNode>();

  /** The newest lease of a node wins: one node's leases share a partition, so they arrive in order. */
  applyLease(lease: IngestLease): void {
    this.leases.set(lease.nodeId, {
      nodeId: lease.nodeId,
      validUntil: lease.released ? Math.min(lease.validUntil, lease.occurredAt) : lease.validUntil,
      released: lease.released,
    });
  }

  applyLifecycle(event: StreamLifecycleEvent): void {
    const p = event.payload;
    if (p.type === 'StreamWentLive')
      this.live.set(event.streamId, {
        streamId: event.streamId,
        nodeId: p.ingestNode,
        since: event.occurredAt,
        wentLiveEventId: event.eventId,
      });
    else if (p.type === 'StreamEnded') this.live.delete(event.streamId);
  }

  /**
   * A stream the stream registry says is not live (a StreamWentLive after its stream ended, which
   * `evolve` ignores; a stream it never saw created): nothing to end, and not live here either.
   */
  forget(streamId: string): void {
    this.live.delete(streamId);
  }

  lease(nodeId: string): NodeLease | undefined {
    return this.leases.get(nodeId);
  }

  /** Live streams (by the leases' view: went live, not ended). */
  get liveStreams(): number {
    return this.live.size;
  }

  /** Live streams whose node holds no lease on record: never ended by node loss. */
  unleased(): StreamOnNode[] {
    return [...this.live.values()].filter((s) => !this.leases.has(s.nodeId));
  }

  /** Streams to end now: on a node whose lease ran out at least `graceMs` before `now`. */
  lostStreams(now: number, graceMs: number): LostStream[] {
    return this.expiredNodes(now, graceMs).flatMap((n) => n.ending);
  }

  /** Every node whose lease has run out by `now` and that still has live streams. */
  expiredNodes(now: number, graceMs: number): ExpiredNode[] {
    const byNode = new Map<string, ExpiredNode>();
    for (const s of this.live.values()) {
      const lease = this.leases.get(s.nodeId);
      if (!lease || lease.validUntil > now) continue;
      const node = byNode.get(s.nodeId) ?? { ...lease, ending: [], waiting: [] };
      byNode.set(s.nodeId, node);
      const lostAt = Math.max(lease.validUntil, s.since);
      if (now >= lostAt + graceMs) node.ending.push({ ...s, lostAt });
      else node.waiting.push(s);
    }
    return [...byNode.values()];
  }
}

/** A lease renewal (or, `released`, its release) as the node publishes it. */
export function leaseEvent(nodeId: string, now: number, ttlMs: number, eventId: string, released = false): IngestLease {
  return { eventId, occurredAt: now, nodeId, validUntil: released ? now : now + ttlMs, released };
}

/**
 * The StreamEnded of a node loss gets an id derived from the StreamWentLive it ends, so every
 * watchdog instance that decides the same end writes the same event id, and consumers that
 * de-duplicate on event ids see one end however many instances raced (a version-4 UUID layout).
 */
export function nodeLossEventId(wentLiveEventId: string): string {
  const h = createHash('sha256').update(`ingest-node-lost:${wentLiveEventId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
