import { randomUUID } from 'node:crypto';
import { TransientError } from '../../platform/errors.ts';
import type { BusAdmin } from '../../platform/kafka/admin.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { Logger } from '../../platform/logger.ts';
import { PlaybackLog } from '../../domain/viewers/playback.ts';
import type { Component } from '../../platform/service.ts';
import { ViewerCounter, type CounterConfig, type CounterFacts } from './counter.ts';
import type { CounterMetrics } from './metrics.ts';

/**
 * The viewer counter's Kafka shell: live.viewer.heartbeats in (one consumer group shared by every
 * instance, so a stream's heartbeats all reach one of them), live.viewer.counts out.
 *
 * On every assignment it moves each owned partition back to the first heartbeat at or after
 * `now - window - margin` (offsets by timestamp), or to the group's committed offset when that is
 * older (a counter that was down longer still reads what it missed), and re-reads from there
 * without publishing until it passes the record that was last at assignment. Offsets are still
 * committed as records are folded, but nothing depends on them: the window always comes from the
 * topic.
 *
 * With `playback` (VIEWER_REQUIRE_PLAYBACK, on by default) it also reads live.viewer.playback, the
 * edges' media fetches per session, into a PlaybackLog, and a heartbeat counts only where its
 * session fetched media of its stream within the window (issue #28). Every instance reads the
 * whole playback topic in a group of its own (it is small: one event per session per edge flush),
 * so the join does not depend on how the heartbeat partitions are spread; it starts a window and
 * the rebuild margin before the heartbeats it re-reads, and the heartbeat group joins only once it
 * has caught up, so a rebuilt window is joined with everything fetched in it.
 */
export interface CounterProcessorOptions {
  groupId: string;
  /** The group of this instance's own playback reader; absent: playback is not required. */
  playback?: { groupId: string; catchUpDeadlineMs: number };
  counter: CounterConfig;
  rebuildMarginMs: number;
  tickMs: number;
  onFatal?: (err: Error) => void;
}

const HEARTBEATS = 'viewerHeartbeats';

export class ViewerCounterProcessor implements Component {
  readonly name = 'viewer-counter';
  readonly counter: ViewerCounter;
  private consumer: EventConsumer | undefined;
  private playbackConsumer: EventConsumer | undefined;
  private readonly playbackLog: PlaybackLog | undefined;
  private producer: EventProducer | undefined;
  private admin: BusAdmin | undefined;
  private generation = 0;
  private partitionsOwned: number[] = [];
  private assignedAt = 0;
  private ticker: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly bus: EventBus,
    facts: CounterFacts,
    private readonly opts: CounterProcessorOptions,
    private readonly log: Logger,
    private readonly metrics: CounterMetrics,
  ) {
    if (opts.playback) {
      const log = new PlaybackLog(opts.counter.windowMs);
      this.playbackLog = log;
      facts = { ...facts, fetchedMedia: (streamId, sessionId, at) => log.fetched(streamId, sessionId, at) };
    }
    this.counter = new ViewerCounter(opts.counter, facts, randomUUID);
  }

  /** Heartbeats re-read after an assignment reach back to here; a playback interval ending earlier is no longer needed. */
  private horizon(now: number): number {
    return now - 2 * this.opts.counter.windowMs - this.opts.rebuildMarginMs - this.opts.counter.maxSkewMs;
  }

  get healthy(): boolean {
    return (this.consumer?.healthy ?? false) && (!this.opts.playback || (this.playbackConsumer?.healthy ?? false));
  }

  async start(): Promise<void> {
    await this.bus.init([HEARTBEATS, 'viewerCounts', ...(this.opts.playback ? (['viewerPlayback'] as const) : [])]);
    this.admin = this.bus.admin();
    this.producer = this.bus.producer();
    await this.producer.connect();
    await this.startPlayback();
    const topic = this.bus.topic(HEARTBEATS);
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        maxBatch: 5000,
        retry: { initialMs: 50, maxMs: 1000 },
        onAssigned: (assignment) => this.assigned(assignment[topic.name] ?? []),
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(topic, async (records) => {
        const outcomes = new Map<string, number>();
        for (const r of records) {
          // Thrown before anything is folded: the batch is stale once the seek lands, and is dropped.
          if (!this.counter.ready(r.partition)) throw new TransientError('partition is moving to its window start');
          const o = this.counter.apply(r.partition, Number(r.offset), r.event, r.timestamp);
          outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
        }
        for (const [outcome, n] of outcomes) this.metrics.heartbeats.inc({ outcome }, n);
      });
    await this.consumer.start();
    this.ticker = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick());
    }, this.opts.tickMs);
  }

  /** Reads live.viewer.playback from before the oldest heartbeat a rebuild may re-read, to its end. */
  private async startPlayback(): Promise<void> {
    const { playback } = this.opts;
    const log = this.playbackLog;
    if (!playback || !log) return;
    const topic = this.bus.topic('viewerPlayback');
    this.playbackConsumer = this.bus
      .consumer({
        groupId: playback.groupId,
        // Intervals are published after they end: start a little before the horizon.
        from: { timestamp: this.horizon(Date.now()) - 60_000 },
        maxBatch: 5000,
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(topic, async (records) => {
        for (const r of records) log.record(r.event);
        this.metrics.playback.inc(records.length);
      });
    await this.playbackConsumer.start();
    await waitForGroupToReachEnd(this.bus, playback.groupId, [topic.name], {
      deadlineMs: playback.catchUpDeadlineMs,
    });
    this.log.info({ intervals: log.size }, 'playback caught up; joining heartbeats');
  }

  /** Consumer first (it commits what it folded), then a publish in flight, then the producer. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    await this.consumer?.stop();
    await this.playbackConsumer?.stop();
    // The playback group is this instance's alone: nothing resumes it.
    if (this.opts.playback) await deleteConsumerGroup(this.bus, this.opts.playback.groupId, this.log);
    await this.ticking;
    await this.producer?.disconnect();
    await this.admin?.close();
  }

  /** Test hook: resolves once every owned partition is live (rebuilt). */
  async whenLive(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (!this.allLive()) {
      if (Date.now() > until) throw new Error('viewer counter partitions did not turn live');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private allLive(): boolean {
    return this.partitionsOwned.length > 0 && this.partitionsOwned.every((p) => this.counter.phaseOf(p) === 'live');
  }

  private assigned(partitions: number[]): void {
    const generation = ++this.generation;
    this.assignedAt = Date.now();
    this.partitionsOwned = partitions;
    this.counter.assign(partitions);
    this.log.info({ partitions }, 'heartbeat partitions assigned; rebuilding their windows');
    void this.seekToWindow(generation, partitions);
  }

  private async seekToWindow(generation: number, partitions: number[]): Promise<void> {
    const topic = this.bus.topicName(HEARTBEATS);
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      if (generation !== this.generation || this.stopped) return;
      try {
        const admin = this.admin!;
        const fromTime = Date.now() - this.opts.counter.windowMs - this.opts.rebuildMarginMs;
        const [byTime, ends, committed] = await Promise.all([
          admin.offsetsAt(topic, fromTime),
          admin.topicOffsets(topic),
          admin.committedOffsets(this.opts.groupId, [topic]),
        ]);
        if (generation !== this.generation) return;
        const committedOf = new Map(committed.map((c) => [c.partition, c.offset]));
        const plan = partitions.map((partition) => {
          const { low, high } = ends.find((e) => e.partition === partition)!;
          const at = byTime.find((b) => b.partition === partition)?.offset ?? high;
          const done = committedOf.get(partition) ?? -1;
          const target = Math.max(low, done >= 0 && done < at ? done : at);
          return { partition, target, lastOffset: high - 1 };
        });
        // Seek first: from this synchronous step on, a batch in hand for these partitions is stale.
        for (const p of plan) this.consumer!.seek(topic, p.partition, String(p.target));
        for (const p of plan) this.counter.rebuildFrom(p.partition, fromTime, p.lastOffset, p.target);
        this.log.info({ plan, fromTime }, 'heartbeat partitions moved to their window start');
        void this.observeRebuild(generation);
        return;
      } catch (err) {
        this.log.warn({ err, retryInMs: delay }, 'could not find where the windows start; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async observeRebuild(generation: number): Promise<void> {
    while (generation === this.generation && !this.stopped && !this.allLive()) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (generation !== this.generation || this.stopped) return;
    const seconds = (Date.now() - this.assignedAt) / 1000;
    this.metrics.rebuildSeconds.observe(seconds);
    this.log.info({ seconds }, 'viewer windows rebuilt; publishing counts');
  }

  private async tick(): Promise<void> {
    const phases = { seeking: 0, rebuilding: 0, live: 0 };
    for (const p of this.partitionsOwned) {
      const phase = this.counter.phaseOf(p);
      if (phase) phases[phase]++;
    }
    for (const [phase, n] of Object.entries(phases)) this.metrics.partitions.set({ phase }, n);
    this.metrics.streams.set(this.counter.streamCount);
    const now = Date.now();
    if (this.playbackLog) {
      this.playbackLog.prune(this.horizon(now));
      this.metrics.playbackHeld.set(this.playbackLog.size);
    }
    const due = this.counter.due(now);
    if (!due.length) return;
    try {
      await this.producer!.publish(this.bus.topic('viewerCounts'), due);
      this.counter.published(due, now);
      this.metrics.published.inc(due.length);
      for (const e of due) {
        if (this.counter.has(e.streamId)) this.metrics.viewers.set({ stream: e.streamId }, e.viewers);
        else this.metrics.viewers.remove({ stream: e.streamId });
      }
    } catch (err) {
      this.counter.unsent(due);
      this.log.warn({ err, streams: due.length }, 'could not publish viewer counts; retrying next tick');
    }
  }
}
