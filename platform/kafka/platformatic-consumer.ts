import type { Consumer, KafkaRecord, RecordsBatch } from '@platformatic/kafka';
import type {
  ConsumeOptions,
  ConsumerSettings,
  DriverConsumer,
  FetchBytes,
  PartitionBatch,
  RawRecord,
  RecordHeaders,
} from './driver.ts';
import type { ClientBase } from './platformatic-driver.ts';
import { withRetriable } from './platformatic-driver.ts';
import { platformatic } from './platformatic-lib.ts';

/**
 * A consumer group member on @platformatic/kafka, shaped like kafkajs's eachBatch (driver.ts).
 * The library's group membership is used as it is (classic protocol, heartbeats on its own
 * timer, rejoining on a rebalance), but not its message stream: that builds an object, a bound
 * commit function, a header Map and a diagnostics context per record, and read a third as fast
 * as its own Fetch requests here. So this member fetches itself:
 *
 * - after each join it reads the group's committed offsets for its assignment (the earliest or
 *   latest offset where there is none), then fetches from the partitions' leaders, one request
 *   per leader at a time, for every assigned partition whose queue is not full;
 * - a partition's records are queued and handed on as one batch, the partition's next batch only
 *   after the last one returned, at most `partitionsConcurrently` partitions at once, taking turns;
 * - every join revokes everything (eager, as kafkajs): batches and fetches of an older
 *   generation are stale and dropped; so are those of a partition sought since;
 * - nothing is committed but what `commit` is given: the runner commits what it handled.
 */
type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

const QUEUE_FULL = 10_000;
const FAILURES = 5;
const ERR_OFFSET_OUT_OF_RANGE = 1;
/** Batch attributes: records of a transaction, and a transaction's commit or abort marker. */
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

/** Positions not known yet: the group's committed offset (else the fallback), or the fallback alone. */
const COMMITTED = -1n;
const FALLBACK = -2n;

interface PartitionState {
  topic: string;
  partition: number;
  /** The next offset to fetch, or COMMITTED / FALLBACK until it is read. */
  position: bigint;
  records: RawRecord[];
  busy: boolean;
  /** Bumped by every seek: a batch or fetch taken before it is stale. */
  epoch: number;
  /** The partition's end (high watermark) as the last fetch saw it, for the lag. */
  high?: number;
}

const headersOf = (pairs: KafkaRecord['headers']): RecordHeaders => {
  const out: RecordHeaders = {};
  for (const [k, v] of pairs) {
    if (k === null) continue;
    const name = k.toString();
    const value = v ?? Buffer.alloc(0);
    const had = out[name];
    out[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return out;
};

export class PlatformaticConsumer implements DriverConsumer {
  private readonly consumer: Consumer;
  private readonly maxWaitMs: number;
  private readonly fetchBytes: FetchBytes;
  private opts: ConsumeOptions | undefined;
  /** This generation's partitions, by `topic|partition`; replaced on every join. */
  private partitions = new Map<string, PartitionState>();
  private generation = 0;
  /** Set by a join until the new assignment's positions are read. */
  private positioned = false;
  private inHand = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly assigned: Array<(assignment: Record<string, number[]>) => void> = [];
  private readonly crashed: Array<(err: Error, restarting: boolean) => void> = [];

  constructor(base: ClientBase, settings: ConsumerSettings) {
    this.maxWaitMs = settings.maxWaitMs ?? 250;
    this.fetchBytes = settings.fetchBytes ?? { perPartition: 4 * 1024 * 1024, total: 50 * 1024 * 1024 };
    this.consumer = new (platformatic().Consumer)({
      ...base,
      groupId: settings.groupId,
      autocommit: false,
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3000,
    });
    this.consumer.on('consumer:group:join', ({ assignments }) => {
      this.generation++;
      this.positioned = false;
      const assignment: Record<string, number[]> = {};
      const next = new Map<string, PartitionState>();
      for (const a of assignments ?? []) {
        assignment[a.topic] = [...a.partitions];
        for (const partition of a.partitions) {
          next.set(`${a.topic}|${partition}`, {
            topic: a.topic,
            partition,
            position: COMMITTED,
            records: [],
            busy: false,
            epoch: 0,
          });
        }
      }
      this.partitions = next;
      for (const listener of this.assigned) listener(assignment);
      this.wake?.();
    });
    // The library emits an error when it could not rejoin the group: this member is out.
    this.consumer.on('error', (err: Error) => this.fail(err, false));
  }

  onAssigned(listener: (assignment: Record<string, number[]>) => void): void {
    this.assigned.push(listener);
  }

  onCrash(listener: (err: Error, restarting: boolean) => void): void {
    this.crashed.push(listener);
  }

  async start(opts: ConsumeOptions): Promise<void> {
    this.opts = opts;
    this.consumer.topics.trackAll(...opts.topics);
    try {
      await this.consumer.joinGroup({});
    } catch (err) {
      throw withRetriable(err);
    }
    this.loop = this.fetchLoop();
  }

  private fail(err: Error, restarting: boolean): void {
    if (this.stopped) return;
    for (const listener of this.crashed) listener(withRetriable(err), restarting);
    if (!restarting) {
      this.stopped = true;
      this.wake?.();
    }
  }

  private async fetchLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const generation = this.generation;
        if (!this.positioned) await this.position(generation);
        const wanted = [...this.partitions.values()].filter((p) => p.records.length < QUEUE_FULL);
        if (wanted.length === 0) {
          // Nothing assigned, or every queue is full: wait for a join, a handler or a moment.
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            setTimeout(resolve, this.maxWaitMs);
          });
          continue;
        }
        await this.fetchOnce(generation, wanted);
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        const restarting = ++failures < FAILURES;
        this.fail(err as Error, restarting);
        if (!restarting) return;
        this.consumer.clearMetadata();
        await new Promise((r) => setTimeout(r, 200 * 2 ** failures));
      }
    }
  }

  /** Where each partition without a position starts: the group's committed offset, else the fallback. */
  private async position(generation: number): Promise<void> {
    const opts = this.opts!;
    const byTopic = new Map<string, number[]>();
    for (const p of this.partitions.values()) {
      if (p.position < 0n) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    }
    if (byTopic.size === 0) {
      this.positioned = true;
      return;
    }
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    const [committed, fallback] = await Promise.all([
      this.consumer.listCommittedOffsets({ topics }),
      this.consumer.listOffsets({
        topics: [...byTopic.keys()],
        timestamp: platformatic().ListOffsetTimestamps[opts.fromBeginning ? 'EARLIEST' : 'LATEST'],
      }),
    ]);
    if (generation !== this.generation) return;
    for (const p of this.partitions.values()) {
      if (p.position >= 0n) continue; // sought meanwhile
      const c = p.position === COMMITTED ? (committed.get(p.topic)?.[p.partition] ?? -1n) : -1n;
      p.position = c >= 0n ? c : (fallback.get(p.topic)?.[p.partition] ?? 0n);
    }
    this.positioned = true;
  }

  private async fetchOnce(generation: number, wanted: PartitionState[]): Promise<void> {
    const metadata = await this.consumer.metadata({ topics: this.opts!.topics });
    const byLeader = new Map<number, PartitionState[]>();
    for (const p of wanted) {
      const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1;
      if (leader < 0) continue;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    await Promise.all(
      [...byLeader].map(async ([node, partitions]) => {
        const epochs = partitions.map((p) => p.epoch);
        const byId = new Map<string, string>();
        const topics = new Map<string, { topicId: string; partitions: FetchPartition[] }>();
        for (const p of partitions) {
          const topicId = metadata.topics.get(p.topic)!.id;
          byId.set(topicId, p.topic);
          const t = topics.get(p.topic) ?? { topicId, partitions: [] };
          t.partitions.push({
            partition: p.partition,
            fetchOffset: p.position,
            partitionMaxBytes: this.fetchBytes.perPartition,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          });
          topics.set(p.topic, t);
        }
        const response = await this.consumer.fetch({
          node,
          topics: [...topics.values()],
          maxWaitTime: this.maxWaitMs,
          minBytes: 1,
          maxBytes: this.fetchBytes.total,
          isolationLevel: 1,
        });
        if (generation !== this.generation || this.stopped) return;
        this.take(response, byId, (p) => epochs[partitions.indexOf(p)] === p.epoch);
      }),
    );
  }

  private take(response: FetchResponse, byId: Map<string, string>, current: (p: PartitionState) => boolean): void {
    for (const t of response.responses) {
      const topic = byId.get(t.topicId);
      for (const r of t.partitions) {
        const p = this.partitions.get(`${topic}|${r.partitionIndex}`);
        if (!p || !current(p)) continue;
        if (r.errorCode === ERR_OFFSET_OUT_OF_RANGE) {
          // Retention passed the position: start again where a group with nothing committed would.
          p.position = FALLBACK;
          this.positioned = false;
          continue;
        }
        if (r.errorCode !== 0)
          throw new Error(`fetch of ${topic}/${r.partitionIndex} failed with Kafka error ${r.errorCode}`);
        p.high = Number(r.highWatermark);
        this.append(p, r.records ?? [], r.abortedTransactions);
      }
    }
    this.dispatch();
  }

  /**
   * A partition's fetched batches, read committed: control markers are passed over, and so are the
   * records of every transaction the broker lists as aborted, from its first offset to its marker.
   */
  private append(
    p: PartitionState,
    batches: RecordsBatch[],
    aborted: Array<{ producerId: bigint; firstOffset: bigint }>,
  ): void {
    const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
    const abortedProducers = new Set<bigint>();
    for (const batch of batches) {
      const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
      while (pending.length && pending[0]!.firstOffset <= last) abortedProducers.add(pending.shift()!.producerId);
      let skip = false;
      if ((batch.attributes & CONTROL) !== 0) {
        // The marker ends the producer's transaction, aborted or not.
        abortedProducers.delete(batch.producerId);
        skip = true;
      } else if ((batch.attributes & TRANSACTIONAL) !== 0) {
        skip = abortedProducers.has(batch.producerId);
      }
      if (!skip) {
        // In number arithmetic (offsets and times stay far below 2^53): a BigInt per record was a GC cost.
        const first = Number(batch.firstOffset);
        const from = Number(p.position);
        const time = Number(batch.firstTimestamp);
        for (const record of batch.records) {
          const offset = first + record.offsetDelta;
          // A compressed batch starts where it starts, maybe before the offset asked for.
          if (offset < from) continue;
          p.records.push({
            topic: p.topic,
            partition: p.partition,
            offset: String(offset),
            timestamp: time + Number(record.timestampDelta),
            key: record.key,
            value: record.value,
            headers: record.headers.length === 0 ? {} : headersOf(record.headers),
          });
        }
      }
      if (last + 1n > p.position) p.position = last + 1n;
    }
  }

  private dispatch(): void {
    const opts = this.opts;
    if (!opts || this.stopped) return;
    for (const p of this.partitions.values()) {
      if (this.inHand >= opts.partitionsConcurrently) return;
      if (p.busy || p.records.length === 0) continue;
      void this.handOver(p, opts);
    }
  }

  private async handOver(p: PartitionState, opts: ConsumeOptions): Promise<void> {
    const records = p.records;
    p.records = [];
    p.busy = true;
    this.inHand++;
    const generation = this.generation;
    const epoch = p.epoch;
    const last = Number(records[records.length - 1]!.offset);
    const batch: PartitionBatch = {
      topic: p.topic,
      partition: p.partition,
      records,
      lag: () => (p.high === undefined ? undefined : Math.max(0, p.high - last - 1)),
      isLive: () => !this.stopped && this.generation === generation && p.epoch === epoch,
      // The library heartbeats on its own timer.
      heartbeat: () => Promise.resolve(),
      // Positions move as records are fetched; a batch is fetched again only after a rebalance.
      resolveOffset: () => undefined,
    };
    try {
      await opts.onBatch(batch);
    } catch (err) {
      this.fail(err as Error, true);
      this.fromCommitted();
    } finally {
      p.busy = false;
      this.inHand--;
      // To the back of the line: a partition that always has records must not starve the others.
      const key = `${p.topic}|${p.partition}`;
      if (this.partitions.get(key) === p) {
        this.partitions.delete(key);
        this.partitions.set(key, p);
      }
      this.wake?.();
      this.dispatch();
    }
  }

  /**
   * After a handler threw, as kafkajs restarts a crashed consumer: everything fetched or in hand
   * turns stale and every partition is read again from what the group committed.
   */
  private fromCommitted(): void {
    this.generation++;
    for (const p of this.partitions.values()) {
      p.records = [];
      p.position = COMMITTED;
    }
    this.positioned = false;
  }

  async commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    try {
      await this.consumer.commit({
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: BigInt(o.offset),
          leaderEpoch: -1,
        })),
      });
    } catch (err) {
      throw withRetriable(err);
    }
  }

  seek(topic: string, partition: number, offset: string): void {
    const p = this.partitions.get(`${topic}|${partition}`);
    if (!p) return;
    p.records = [];
    p.epoch++;
    p.position = BigInt(offset);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.consumer.close();
  }
}

interface FetchPartition {
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
}
