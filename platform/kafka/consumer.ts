import { PoisonRecordError, isRetriable, type DeadLetterReason } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { Slots } from '../concurrency.ts';
import { BusAdmin } from './admin.ts';
import { NEEDS_WRITER_SCHEMA } from './codec.ts';
import { deadLetterHeaders, versionOf } from './dead-letter.ts';
import type { DriverConsumer, FetchBytes, KafkaDriver, PartitionBatch, RawRecord, RecordHeaders } from './driver.ts';
import type { EventProducer, TopicHandle } from './producer.ts';
import { startOffsets, type StartPosition } from './start.ts';
import { dlqName } from '../../schemas/topics.ts';

/**
 * The one consumer loop every processor and sink uses (at-least-once):
 * - records are decoded, then handed to the topic's handler in order, in chunks;
 * - an offset is resolved (and so may be committed) only after the handler's effect is durable;
 * - handled offsets are committed every `commitIntervalMs`, and once more on a clean stop. Not
 *   per batch, which is what kafkajs's autoCommit does in eachBatch mode: one OffsetCommit round
 *   trip after every batch held a low-latency reader (the chat fan-out) to a fetch every ~60 ms
 *   and put ~50 ms on every message's p50 on this machine; the client never commits by itself;
 * - undecodable records, and records a handler rejects for good, go to `<topic>.dlq` and the
 *   partition moves on;
 * - retriable failures back off with capped, jittered delays and no commit, heartbeating all the
 *   while so a slow store does not cost the partition;
 * - with `readAhead`, a partition's next batches are fetched and decoded while its handler still
 *   writes the ones before (kafkajs fetches only once every batch of the last fetch is handed on),
 *   and partitions are handled side by side, `partitionsConcurrently` at once;
 * - when the client gives up restarting, `onFatal` is called and `healthy` turns false.
 * It runs on whichever client library the bus was given (driver.ts).
 * Handlers must be idempotent: a record can be delivered again after a crash or a rebalance.
 */
export interface ConsumedEvent<T> {
  event: T;
  key: string | null;
  topic: string;
  partition: number;
  offset: string;
  /**
   * The offset for ordering state: the same as `offset`, except for a record re-driven from its
   * dead-letter topic, which keeps the offset it first had (dead-letter.ts `versionOf`). Commits
   * use `offset`; folds that keep the newest event by offset use this.
   */
  version: string;
  /** Broker append time (ms). */
  timestamp: number;
  headers: RecordHeaders;
}

export type BatchHandler<T> = (records: ConsumedEvent<T>[]) => Promise<void>;

export interface ConsumerOptions {
  groupId: string;
  /** Where this consumer starts (start.ts); 'latest' when not said. */
  from?: StartPosition;
  /** Largest chunk handed to a handler at once. */
  maxBatch?: number;
  retry?: { initialMs: number; maxMs: number };
  /** How often handled offsets are committed (default 1000 ms); a lag reader sees progress this late. */
  commitIntervalMs?: number;
  /** Partitions whose batches are handled at once (default 1); each partition's records stay in order. */
  partitionsConcurrently?: number;
  /**
   * Records a partition may hold fetched and decoded, waiting behind the chunk its handler is on
   * (default 0: the next fetch waits until every batch of this one is handled). Reading ahead
   * overlaps fetching and decoding with the handler's writes, and one slow partition no longer
   * holds up the fetches of the others. What was read ahead and not handled when the group
   * rebalances, or when the partition is sought, is dropped: it is fetched again from the
   * committed offset. A rebalance does not wait for the chunk in hand, so for that long the
   * partition's new owner may write the same records too (idempotent writes; this member
   * commits nothing for them): rebuilds use it, the live sinks do not.
   */
  readAhead?: number;
  /**
   * Bytes one fetch brings, from each partition and all together (the driver's settings when
   * absent). The broker fills a fetch partition by partition in the order asked, so with every
   * partition behind, a per-partition share much above total / partitions leaves the last
   * partitions nothing until the first ones catch up.
   */
  fetchBytes?: FetchBytes;
  onFatal?: (err: Error) => void;
  /**
   * Point-in-time rebuilds: records appended after this time (broker timestamp, ms) are passed
   * over and committed, never handed to a handler, so the group still reaches the topic's end.
   */
  until?: number;
  /**
   * Called synchronously with the whole assignment (topic -> partitions) each time the group
   * (re)assigns partitions, before any record of the new assignment is handed to a handler. Every
   * rebalance revokes everything first (eager protocol, on either client), so this is the full set
   * now owned.
   */
  onAssigned?: (assignment: Record<string, number[]>) => void;
  /**
   * For a handler that takes records into a buffer of its own and makes them durable later (the
   * Parquet archive writes a file per offset range): the first offset of the partition it holds
   * and has not made durable yet, undefined when it holds none. Commits stay below it, so after a
   * crash the partition is read again from the first record that was only held.
   */
  heldFrom?: (topic: string, partition: number) => string | undefined;
}

interface Subscription {
  topic: TopicHandle<unknown>;
  handler: BatchHandler<unknown>;
}

/** What a partition does with one decoded batch, in order. */
type Step =
  | { kind: 'chunk'; records: ConsumedEvent<unknown>[] }
  | { kind: 'poison'; msg: RawRecord; error: PoisonRecordError }
  | { kind: 'pass'; offset: string };

/**
 * One partition's handling: each batch's work starts when the one before it ends, so records
 * stay in order however many batches are read ahead.
 */
interface Lane {
  tail: Promise<void>;
  /** Records fetched and not yet handled (or dropped). */
  queued: number;
  /** Bumped by `seek` and by a failed batch: work read before is dropped. */
  epoch: number;
  /** Woken whenever `queued` drops. */
  changed: Array<() => void>;
  failure?: Error;
}

/** Whether a batch in hand may still be handled (`alive`) and committed (`ours`). */
interface Hold {
  alive(): boolean;
  /** The group has not been reassigned, nor the partition sought, since the batch was fetched. */
  ours(): boolean;
}

/**
 * Throws a lane's failure from its partition's next batch: the driver then restarts the consumer
 * (kafkajs crashes and restarts; the platformatic driver drops what it fetched), which reads again
 * from the committed offsets, as a handler's throw did before batches were read ahead.
 */
function throwIfFailed(lane: Lane): void {
  const failure = lane.failure;
  lane.failure = undefined;
  if (failure) throw failure;
}

const HEARTBEAT_EVERY_MS = 3000;

export class EventConsumer {
  private readonly consumer: DriverConsumer;
  private readonly subs = new Map<string, Subscription>();
  private fatal: Error | undefined;
  private running = false;
  private stopping = false;
  /** Handled but not yet committed: the next offset to read, by `topic|partition`. */
  private readonly toCommit = new Map<string, { topic: string; partition: number; offset: string }>();
  private committing: Promise<void> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | undefined;
  private batchesInHand = 0;
  private readonly whenNoBatchInHand: Array<() => void> = [];
  /** Bumped at every (re)assignment: work read under an older one is dropped, never committed. */
  private generation = 0;
  private readonly lanes = new Map<string, Lane>();
  private readonly slots: Slots;

  constructor(
    private readonly driver: KafkaDriver,
    private readonly producer: EventProducer,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly opts: ConsumerOptions,
  ) {
    this.consumer = driver.consumer({
      groupId: opts.groupId,
      ...(opts.fetchBytes && { fetchBytes: opts.fetchBytes }),
    });
    this.slots = new Slots(opts.partitionsConcurrently ?? 1);
    this.consumer.onAssigned((owned) => {
      this.generation++;
      // A partition that moved to another member is theirs to commit from now on.
      for (const [key, c] of this.toCommit) if (!owned[c.topic]?.includes(c.partition)) this.toCommit.delete(key);
      opts.onAssigned?.(owned);
    });
    this.consumer.onCrash((err, restart) => {
      this.log.error({ err, restart, group: opts.groupId }, 'consumer crashed');
      if (!restart) {
        this.fatal = err;
        opts.onFatal?.(err);
      }
    });
  }

  get healthy(): boolean {
    return this.running && this.fatal === undefined;
  }

  on<T>(topic: TopicHandle<T>, handler: BatchHandler<T>): this {
    this.subs.set(topic.name, { topic, handler } as unknown as Subscription);
    return this;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    const topics = [...this.subs.keys()];
    const from = this.opts.from ?? 'latest';
    if (typeof from === 'object') await this.commitStart(topics, from);
    await this.consumer.start({
      topics,
      fromBeginning: from === 'earliest',
      // Reading ahead, a batch is only decoded and queued here (Slots bound the handling), so
      // every partition of a fetch can be taken in at once.
      partitionsConcurrently: this.opts.readAhead ? 1000 : (this.opts.partitionsConcurrently ?? 1),
      onBatch: (batch) => this.inHand(() => this.onBatch(batch)),
    });
    this.commitTimer = setInterval(() => void this.commitHandled(), this.opts.commitIntervalMs ?? 1000);
    this.running = true;
  }

  /**
   * An explicit start becomes the group's committed offsets before this member joins, rather than
   * a seek once it has: the group then reads as reaching its end at once when nothing follows the
   * start (waitForGroupToReachEnd), and no fetch from an older position can slip in first.
   */
  private async commitStart(topics: string[], from: Exclude<StartPosition, 'earliest' | 'latest'>): Promise<void> {
    const admin = new BusAdmin(this.driver.admin());
    try {
      const offsets = await startOffsets(admin, topics, from);
      if (offsets.length) await admin.setCommittedOffsets(this.opts.groupId, offsets);
    } finally {
      await admin.close();
    }
  }

  /**
   * Stops handing records on, lets the chunk in hand finish (or abandon its retries), commits
   * what is done while still a member of the group, then leaves.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    clearInterval(this.commitTimer);
    if (this.batchesInHand > 0) await new Promise<void>((resolve) => this.whenNoBatchInHand.push(resolve));
    await this.commitHandled();
    await this.consumer.stop();
    await this.producer.disconnect();
  }

  private async inHand(fn: () => Promise<void>): Promise<void> {
    this.batchesInHand++;
    try {
      await fn();
    } finally {
      if (--this.batchesInHand === 0) for (const resolve of this.whenNoBatchInHand.splice(0)) resolve();
    }
  }

  /** Commits every handled offset not committed yet; one commit at a time, failures retried next time. */
  private commitHandled(): Promise<void> {
    this.committing = this.committing.then(async () => {
      if (this.toCommit.size === 0) return;
      const handled = [...this.toCommit.values()];
      const offsets = handled.map((c) => ({ ...c, offset: this.belowHeld(c.topic, c.partition, c.offset) }));
      try {
        await this.consumer.commit(offsets);
        handled.forEach((c, i) => {
          const key = `${c.topic}|${c.partition}`;
          // A commit held back below a handler's buffer is committed in full once that is durable.
          if (this.toCommit.get(key) === c && offsets[i]!.offset === c.offset) this.toCommit.delete(key);
        });
      } catch (err) {
        this.log.warn({ err, group: this.opts.groupId }, 'could not commit offsets; will retry');
      }
    });
    return this.committing;
  }

  /** `offset`, or the first offset the handler still holds undurably when that is lower (`heldFrom`). */
  private belowHeld(topic: string, partition: number, offset: string): string {
    const held = this.opts.heldFrom?.(topic, partition);
    return held !== undefined && BigInt(held) < BigInt(offset) ? held : offset;
  }

  /**
   * Moves an assigned partition's position. A batch in hand for it turns stale and is neither
   * handed on nor committed; fetching resumes at `offset`, and commits follow the records handled
   * from there.
   */
  seek(topic: string, partition: number, offset: string): void {
    const lane = this.lanes.get(`${topic}|${partition}`);
    if (lane) lane.epoch++;
    this.consumer.seek(topic, partition, offset);
  }

  /**
   * The partitions this member holds, after every rebalance, by topic. For processors whose work
   * is "whatever my partitions own" (media workers), not just records.
   */
  onAssignment(listener: (assignment: Record<string, number[]>) => void): this {
    this.consumer.onAssigned(listener);
    return this;
  }

  /** Test and tooling hook: resolves once the group has been assigned partitions. */
  onceJoined(): Promise<void> {
    return new Promise((resolve) => {
      let joined = false;
      this.consumer.onAssigned(() => {
        if (joined) return;
        joined = true;
        resolve();
      });
    });
  }

  /**
   * One fetched batch: decoded here, then handled in its partition's lane after the batches
   * before it. Returns once the partition holds no more than `readAhead` records unhandled (with
   * none, once this batch is handled); the driver hands on the partition's next batch after that.
   */
  private async onBatch(p: PartitionBatch): Promise<void> {
    const sub = this.subs.get(p.topic);
    const last = p.records[p.records.length - 1];
    if (!sub || !last) return;
    const key = `${p.topic}|${p.partition}`;
    const lane = this.lanes.get(key) ?? { tail: Promise.resolve(), queued: 0, epoch: 0, changed: [] };
    this.lanes.set(key, lane);
    throwIfFailed(lane);
    const { generation } = this;
    const { epoch } = lane;
    // Checked per chunk rather than per record (kafkajs's isStale is not free): nothing is handed
    // to the handler, dead-lettered or committed once the consumer stops, the group is reassigned
    // or the partition sought, or a batch before this one failed.
    const ours = (): boolean => p.isLive() && generation === this.generation && epoch === lane.epoch;
    const hold: Hold = { ours, alive: () => !this.stopping && ours() };
    if (!hold.alive()) return;
    const started = process.hrtime.bigint();
    const lag = p.lag();
    if (lag !== undefined)
      this.metrics.lag.set({ topic: p.topic, partition: String(p.partition), group: this.opts.groupId }, lag);
    const steps = await this.decode(p, sub, hold);
    if (steps === 'stopped') return;
    // The driver fetches from here on; what is committed is the runner's own (markDone).
    p.resolveOffset(last.offset);
    const records = p.records.length;
    lane.queued += records;
    this.batchesInHand++;
    lane.tail = lane.tail
      .then(async () => {
        if (!hold.alive()) return;
        await this.slots.run(() => this.handle(p, sub, steps, hold));
        this.metrics.batchSeconds.observe(
          { topic: p.topic, group: this.opts.groupId },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      })
      .catch((err: unknown) => {
        // What this partition read after the failed batch must not be handled past it.
        lane.epoch++;
        lane.failure = err instanceof Error ? err : new Error(String(err));
        this.log.error({ err, topic: p.topic, partition: p.partition }, 'handling a batch failed');
      })
      .finally(() => {
        lane.queued -= records;
        for (const wake of lane.changed.splice(0)) wake();
        if (--this.batchesInHand === 0) for (const resolve of this.whenNoBatchInHand.splice(0)) resolve();
      });
    const room = this.opts.readAhead ?? 0;
    while (lane.queued > room && !lane.failure) await new Promise<void>((r) => lane.changed.push(r));
    throwIfFailed(lane);
  }

  /**
   * A batch's records decoded, in order, as what the lane does with them: chunks for the
   * handler, records to dead-letter, records passed over (`until`). 'stopped' when the consumer
   * stopped while the registry was out of reach.
   */
  private async decode(p: PartitionBatch, sub: Subscription, hold: Hold): Promise<Step[] | 'stopped'> {
    const max = this.opts.maxBatch ?? 500;
    const codec = sub.topic.codec;
    const until = this.opts.until;
    const steps: Step[] = [];
    let chunk: ConsumedEvent<unknown>[] = [];
    const flush = (): void => {
      if (chunk.length) steps.push({ kind: 'chunk', records: chunk });
      chunk = [];
    };
    for (const msg of p.records) {
      if (until !== undefined && msg.timestamp > until) {
        flush();
        steps.push({ kind: 'pass', offset: msg.offset });
        continue;
      }
      let event: unknown;
      let poison: PoisonRecordError | undefined;
      try {
        // Synchronous for every record whose writer schema is known: no promise, no timer per record.
        event = codec.decodeSync(msg.value);
      } catch (err) {
        if (!(err instanceof PoisonRecordError)) throw err;
        poison = err;
      }
      if (event === NEEDS_WRITER_SCHEMA) {
        // The first record of a writer schema: fetch it, retrying while the registry is unreachable.
        const decoded = await this.retrying(p, hold, async () => {
          try {
            event = await codec.decode(msg.value);
            return 'ok' as const;
          } catch (err) {
            if (err instanceof PoisonRecordError) return err;
            throw err;
          }
        });
        if (decoded === 'stopped') return 'stopped';
        if (decoded instanceof PoisonRecordError) poison = decoded;
      }
      if (poison) {
        flush();
        steps.push({ kind: 'poison', msg, error: poison });
        continue;
      }
      chunk.push({
        event,
        key: msg.key ? msg.key.toString() : null,
        topic: p.topic,
        partition: p.partition,
        offset: msg.offset,
        version: versionOf(msg.headers, p.partition, msg.offset),
        timestamp: msg.timestamp,
        headers: msg.headers,
      });
      if (chunk.length >= max) flush();
    }
    flush();
    return steps;
  }

  /** Does a decoded batch's steps in order; stops at the first that could not finish. */
  private async handle(p: PartitionBatch, sub: Subscription, steps: Step[], hold: Hold): Promise<void> {
    for (const step of steps) {
      if (!hold.alive()) return;
      switch (step.kind) {
        case 'chunk':
          if (!(await this.deliver(sub, step.records, p, hold))) return;
          break;
        case 'poison':
          if (!(await this.deadLetter(p, step.msg, step.error.reason, step.error.message, hold))) return;
          break;
        case 'pass':
          this.markDone(p, step.offset, 0, hold);
          break;
        default: {
          const _exhaustive: never = step;
          return _exhaustive;
        }
      }
    }
  }

  /** Hands a chunk to the handler; on a non-retriable failure isolates the bad record(s) one by one. */
  private async deliver(
    sub: Subscription,
    chunk: ConsumedEvent<unknown>[],
    p: PartitionBatch,
    hold: Hold,
  ): Promise<boolean> {
    const topic = p.topic;
    const group = this.opts.groupId;
    const result = await this.retrying(p, hold, async () => {
      try {
        await sub.handler(chunk);
        return 'ok' as const;
      } catch (err) {
        if (isRetriable(err)) throw err;
        return err as Error;
      }
    });
    if (result === 'stopped') return false;
    if (result === 'ok') {
      this.markDone(p, chunk[chunk.length - 1]!.offset, chunk.length, hold);
      return true;
    }
    if (chunk.length > 1) {
      for (const one of chunk) {
        if (!(await this.deliver(sub, [one], p, hold))) return false;
      }
      return true;
    }
    const only = chunk[0]!;
    this.metrics.handlerErrors.inc({ topic, group, retriable: 'false' });
    const msg = p.records.find((m) => m.offset === only.offset)!;
    const reason: DeadLetterReason = result instanceof PoisonRecordError ? result.reason : 'handler-failed';
    return this.deadLetter(p, msg, reason, result.message, hold);
  }

  private async deadLetter(
    p: PartitionBatch,
    msg: RawRecord,
    reason: DeadLetterReason,
    error: string,
    hold: Hold,
  ): Promise<boolean> {
    const { topic, partition } = p;
    const group = this.opts.groupId;
    this.log.warn({ topic, partition, offset: msg.offset, reason, error }, 'dead-lettering record');
    const sent = await this.retrying(
      p,
      hold,
      async () => {
        await this.producer.sendRaw(dlqName(topic), [
          {
            key: msg.key,
            value: msg.value,
            headers: deadLetterHeaders(msg, { topic, partition, group }, reason, error),
          },
        ]);
        return 'ok' as const;
      },
      true,
    );
    if (sent !== 'ok') return false;
    this.metrics.deadLettered.inc({ topic, group, reason });
    this.markDone(p, msg.offset, 0, hold);
    return true;
  }

  /**
   * The record at `offset` and all before it in the partition are done: committed soon. Unless
   * the group was reassigned or the partition sought meanwhile: then the partition is read again
   * from its committed offset, by whoever holds it now, and this member commits nothing for it.
   */
  private markDone(p: PartitionBatch, offset: string, handled: number, hold: Hold): void {
    const { topic, partition } = p;
    if (handled) this.metrics.consumed.inc({ topic, group: this.opts.groupId }, handled);
    if (!hold.ours()) return;
    this.toCommit.set(`${topic}|${partition}`, { topic, partition, offset: String(BigInt(offset) + 1n) });
  }

  /**
   * Runs `fn` until it returns; retriable throws are retried with capped jittered backoff while
   * the consumer is alive, heartbeating so the group keeps the partition. Returns 'stopped' when
   * the consumer stops or loses the partition first (nothing is committed then).
   */
  private async retrying<R>(
    p: PartitionBatch,
    hold: Hold,
    fn: () => Promise<R>,
    everythingRetriable = false,
  ): Promise<R | 'stopped'> {
    const { initialMs, maxMs } = this.opts.retry ?? { initialMs: 200, maxMs: 30_000 };
    let delay = initialMs;
    for (let attempt = 1; ; attempt++) {
      const beat = setInterval(() => void p.heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
      try {
        return await fn();
      } catch (err) {
        if (!everythingRetriable && !isRetriable(err)) throw err;
        this.metrics.handlerErrors.inc({ topic: p.topic, group: this.opts.groupId, retriable: 'true' });
        this.log.warn({ err, attempt, retryInMs: delay, topic: p.topic, partition: p.partition }, 'retriable failure');
      } finally {
        clearInterval(beat);
      }
      const until = Date.now() + delay * (0.5 + Math.random() / 2);
      while (Date.now() < until) {
        if (!hold.alive()) return 'stopped';
        await p.heartbeat().catch(() => undefined);
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, until - Date.now()))));
      }
      if (!hold.alive()) return 'stopped';
      delay = Math.min(maxMs, delay * 2);
    }
  }
}
