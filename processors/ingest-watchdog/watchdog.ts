import { Counter, Gauge } from 'prom-client';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { IngestLeases, nodeLossEventId, type LostStream } from '../../domain/ingest/leases.ts';
import { decide } from '../../domain/stream/decide.ts';
import type { StreamRecord } from '../../domain/stream/evolve.ts';

/**
 * The ingest watchdog's shell: folds live.ingest.leases (its own consumer, here) and
 * live.stream.lifecycle (the stream registry projection calls `onLifecycle`) into IngestLeases,
 * and every `sweepMs` ends the streams whose ingest node was lost (domain/ingest/leases.ts says
 * which), each through the stream `decide` (EndStreamOnNodeLoss), so a stream already ended is
 * left alone. Sweeps begin only once both topics are read to their end.
 *
 * Several instances may run: each reads every partition (its own groups) and decides the same
 * ends. Two may race to end one stream; their StreamEnded events carry the same event id
 * (`nodeLossEventId`), and a second StreamEnded is a no-op for every projection (`evolve`).
 */
export interface WatchdogDeps {
  bus: EventBus;
  /** The stream as the registry holds it (for `decide`). */
  stream: (streamId: string) => StreamRecord | undefined;
  publish: (events: StreamLifecycleEvent[]) => Promise<void>;
  groupId: string;
  graceMs: number;
  sweepMs: number;
  catchUpDeadlineMs: number;
  log: Logger;
  metrics: Metrics;
  onFatal?: (err: Error) => void;
  clock?: () => number;
}

export class IngestWatchdog implements Component {
  readonly name = 'ingest-watchdog';
  private readonly leases = new IngestLeases();
  private consumer: EventConsumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** Ends published and not yet read back, by stream: not decided twice meanwhile. */
  private readonly inFlight = new Set<string>();
  /** `${node}@${validUntil}` of lease expiries already logged. */
  private readonly reported = new Set<string>();
  private readonly now: () => number;
  private readonly m: {
    ended: Counter;
    failed: Counter;
    lostNodes: Gauge;
    waiting: Gauge;
    unleased: Gauge;
  };

  constructor(private readonly deps: WatchdogDeps) {
    this.now = deps.clock ?? Date.now;
    const registers = [deps.metrics.registry];
    this.m = {
      ended: new Counter({
        name: 'live_ingest_watchdog_streams_ended_total',
        help: 'Streams ended because their ingest node lost its lease (StreamEnded INGEST_NODE_LOST)',
        registers,
      }),
      failed: new Counter({
        name: 'live_ingest_watchdog_end_failures_total',
        help: 'StreamEnded INGEST_NODE_LOST that could not be published (retried at the next sweep)',
        registers,
      }),
      lostNodes: new Gauge({
        name: 'live_ingest_watchdog_expired_nodes',
        help: 'Ingest nodes whose lease ran out with streams still live on them',
        registers,
      }),
      waiting: new Gauge({
        name: 'live_ingest_watchdog_streams_awaiting_reconnect',
        help: 'Live streams on a node whose lease ran out, within their reconnect grace',
        registers,
      }),
      unleased: new Gauge({
        name: 'live_ingest_watchdog_unleased_streams',
        help: 'Live streams whose ingest node has no lease on record (never ended by node loss)',
        registers,
      }),
    };
  }

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  /** Every lifecycle event, once the registry has applied it. */
  onLifecycle(event: StreamLifecycleEvent): void {
    this.leases.applyLifecycle(event);
    if (event.payload.type === 'StreamEnded') this.inFlight.delete(event.streamId);
  }

  /** Reads the leases to their end. Call before the registry projection starts; `begin` after it. */
  async start(): Promise<void> {
    const { bus } = this.deps;
    await bus.init(['ingestLeases', 'streamLifecycle']);
    const topic = bus.topic('ingestLeases');
    this.consumer = bus
      .consumer({
        groupId: this.deps.groupId,
        from: 'earliest',
        ...(this.deps.onFatal && { onFatal: this.deps.onFatal }),
      })
      .on(topic, async (records) => {
        for (const r of records) this.leases.applyLease(r.event);
      });
    await this.consumer.start();
    await waitForGroupToReachEnd(bus, this.deps.groupId, [topic.name], { deadlineMs: this.deps.catchUpDeadlineMs });
  }

  /** Both topics are read: sweeping starts. */
  begin(): void {
    this.deps.log.info(
      { graceMs: this.deps.graceMs, sweepMs: this.deps.sweepMs, live: this.leases.liveStreams },
      'watching ingest leases',
    );
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: unknown) => this.deps.log.error({ err }, 'sweep failed'))
        .finally(() => (this.sweeping = undefined));
    }, this.deps.sweepMs);
  }

  /** Sweeps stop (before the registry projection stops, so none runs on a registry gone still). */
  async halt(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  async stop(): Promise<void> {
    await this.halt();
    await this.consumer?.stop();
    await deleteConsumerGroup(this.deps.bus, this.deps.groupId, this.deps.log);
  }

  /** One look over the leases and live streams. */
  async sweep(): Promise<void> {
    const now = this.now();
    const nodes = this.leases.expiredNodes(now, this.deps.graceMs);
    this.m.lostNodes.set(nodes.length);
    this.m.waiting.set(nodes.reduce((n, node) => n + node.waiting.length, 0));
    this.m.unleased.set(this.leases.unleased().length);
    const expired = new Set(nodes.map((n) => `${n.nodeId}@${n.validUntil}`));
    for (const key of this.reported) if (!expired.has(key)) this.reported.delete(key);
    for (const node of nodes) {
      const key = `${node.nodeId}@${node.validUntil}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.deps.log.warn(
        {
          nodeId: node.nodeId,
          validUntil: node.validUntil,
          released: node.released,
          streams: [...node.waiting, ...node.ending].map((s) => s.streamId),
          graceMs: this.deps.graceMs,
        },
        node.released
          ? 'ingest node released its lease with streams still live on it'
          : 'ingest node lease ran out; its streams end after the grace unless their encoders reconnect elsewhere',
      );
    }
    for (const node of nodes) {
      const due = node.ending.filter((s) => !this.inFlight.has(s.streamId));
      const ended: string[] = [];
      for (const s of due) if ((await this.end(s, now)) === 'ended') ended.push(s.streamId);
      if (!ended.length) continue;
      this.deps.log.warn(
        { nodeId: node.nodeId, validUntil: node.validUntil, ended, waiting: node.waiting.map((s) => s.streamId) },
        'ingest node lost; ended the streams still live on it',
      );
    }
  }

  private async end(s: LostStream, now: number): Promise<'ended' | 'not live' | 'failed'> {
    const events = decide(
      this.deps.stream(s.streamId),
      { type: 'EndStreamOnNodeLoss', streamId: s.streamId, ingestNode: s.nodeId },
      { userId: 'ingest-watchdog', username: 'ingest-watchdog', now, eventIds: [nodeLossEventId(s.wentLiveEventId)] },
    );
    if (!events.length) {
      this.leases.forget(s.streamId);
      this.deps.log.debug({ streamId: s.streamId, nodeId: s.nodeId }, 'not live by the registry; nothing to end');
      return 'not live';
    }
    this.inFlight.add(s.streamId);
    try {
      await this.deps.publish(events);
    } catch (err) {
      this.inFlight.delete(s.streamId);
      this.m.failed.inc();
      this.deps.log.error({ err, streamId: s.streamId, nodeId: s.nodeId }, 'could not announce StreamEnded');
      return 'failed';
    }
    this.m.ended.inc();
    this.deps.log.info(
      { streamId: s.streamId, nodeId: s.nodeId, lostAt: s.lostAt, reason: 'INGEST_NODE_LOST' },
      'stream ended',
    );
    return 'ended';
  }
}
