import { readdir, rm } from 'node:fs/promises';
import { Counter, Gauge, Histogram } from 'prom-client';
import { TransientError } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { ConsumedEvent, EventConsumer } from '../../platform/kafka/consumer.ts';
import type { TopicHandle } from '../../platform/kafka/producer.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { TOPICS, subjectOf, type TopicKey } from '../../schemas/topics.ts';
import { KAFKA_COLUMNS, mergeColumns, type Column } from '../../domain/archive/columns.ts';
import {
  archivedThrough,
  fileName,
  hourDir,
  hourFromDir,
  runsByHour,
  tempFilePartition,
  topicDir,
} from '../../domain/archive/layout.ts';
import { ArchiveCodec, type ArchivedValue, type SchemaPlan } from './codec.ts';
import type { ParquetWriter } from './parquet.ts';

export interface ArchiverOptions {
  root: string;
  topics: TopicKey[];
  groupId: string;
  /** A partition's held records are written once this many are held... */
  flushRecords: number;
  /** ...or once the oldest has been held this long. */
  flushMs: number;
  maxBatch: number;
  partitionsConcurrently: number;
  onFatal?: (err: Error) => void;
}

/** A record taken from a partition and not yet in a file. */
interface Held {
  offset: string;
  timestamp: number;
  plan: SchemaPlan;
  row: Record<string, unknown>;
}

interface PartitionState {
  topic: TopicKey;
  partition: number;
  /** The first offset not taken yet: below it, a record is in a file or held. */
  next: bigint;
  held: Held[];
  /** When the oldest held record was taken (ms). */
  since: number;
}

/**
 * The archive sink: one consumer group over every catalog topic, each partition's records held
 * in memory and written as Parquet files of contiguous offset ranges (domain/archive/layout.ts).
 *
 * Exactly once by construction:
 * - a file is one partition's offsets first..last, named by them, renamed into place complete;
 * - offsets are committed only below what is held and not yet written (ConsumerOptions.heldFrom),
 *   so a crash reads again from the first record not in a file;
 * - the files are the archive's own record of progress: when a partition is assigned, its file
 *   names say how far it is archived, and records at or below that are passed over. A record
 *   committed late, or read again after a kill between a rename and a commit, is never written
 *   twice.
 * Writes are queued one at a time (the DuckDB connection), so a partition taken away by a
 * rebalance is never renamed into place after its new owner looked at the folder.
 */
export class Archiver implements Component {
  readonly name = 'archive';
  private consumer: EventConsumer | undefined;
  private readonly states = new Map<string, PartitionState>();
  /** `topic|partition` of every partition this process holds now. */
  private owned = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly m: ArchiveMetrics;
  private readonly topicOf = new Map<string, TopicKey>();

  constructor(
    private readonly bus: EventBus,
    private readonly writer: ParquetWriter,
    private readonly log: Logger,
    metrics: Metrics,
    private readonly opts: ArchiverOptions,
  ) {
    this.m = archiveMetrics(metrics);
  }

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    const o = this.opts;
    await this.bus.init(o.topics);
    const consumer = this.bus.consumer({
      groupId: o.groupId,
      from: 'earliest',
      maxBatch: o.maxBatch,
      partitionsConcurrently: o.partitionsConcurrently,
      heldFrom: (topic, partition) => this.states.get(`${topic}|${partition}`)?.held[0]?.offset,
      onAssigned: (assignment) => this.reassigned(assignment),
      ...(o.onFatal && { onFatal: o.onFatal }),
    });
    for (const key of o.topics) {
      const name = this.bus.topicName(key);
      this.topicOf.set(name, key);
      const handle: TopicHandle<ArchivedValue> = {
        name,
        key: 'plan',
        codec: new ArchiveCodec(subjectOf(name), this.bus.valueSchema(key), this.bus.registry),
      };
      consumer.on(handle, (records) => this.take(key, records));
    }
    this.consumer = consumer;
    await consumer.start();
    this.timer = setInterval(() => void this.flushDue(), Math.min(1000, o.flushMs));
  }

  /** Writes everything held, then leaves the group; the last commit covers what was written. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushAll().catch((err: unknown) => this.log.error({ err }, 'final flush failed'));
    await this.consumer?.stop();
  }

  /** Writes every partition's held records now (stop, and tests). */
  async flushAll(): Promise<void> {
    for (const key of [...this.states.keys()]) await this.flush(key);
  }

  /**
   * A partition kept across a rebalance keeps what it holds (no other member held it meanwhile:
   * every member sees every assignment); one taken away is dropped, unwritten and uncommitted,
   * for its new owner to read again.
   */
  private reassigned(assignment: Record<string, number[]>): void {
    this.owned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}|${p}`)));
    for (const [key, s] of this.states) {
      if (this.owned.has(key)) continue;
      this.states.delete(key);
      this.m.held.dec(s.held.length);
    }
  }

  private async take(topic: TopicKey, records: ConsumedEvent<ArchivedValue>[]): Promise<void> {
    const first = records[0];
    if (!first) return;
    const key = `${first.topic}|${first.partition}`;
    const state = this.states.get(key) ?? (await this.assign(topic, first.topic, first.partition));
    let taken = 0;
    for (const r of records) {
      const offset = BigInt(r.offset);
      if (offset < state.next) continue;
      if (state.held.length === 0) state.since = Date.now();
      state.held.push({ offset: r.offset, timestamp: r.timestamp, plan: r.event.plan, row: rowOf(r) });
      state.next = offset + 1n;
      taken++;
    }
    this.m.held.inc(taken);
    if (state.held.length >= this.opts.flushRecords) {
      try {
        await this.flush(key);
      } catch (err) {
        // The runner retries the chunk (its records are held already, so they are passed over).
        throw new TransientError(`archive write failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /**
   * A partition newly handed to this process: how far its files go, read in the write queue so
   * no write of an earlier assignment is still on its way. Left-over temporary files (a writer
   * killed mid-file) are removed.
   */
  private assign(topic: TopicKey, name: string, partition: number): Promise<PartitionState> {
    const key = `${name}|${partition}`;
    return this.enqueue(async () => {
      const existing = this.states.get(key);
      if (existing) return existing;
      const through = await this.scan(topic, partition);
      const state: PartitionState = { topic, partition, next: through + 1n, held: [], since: Date.now() };
      if (this.owned.has(key)) this.states.set(key, state);
      this.log.info({ topic: name, partition, archivedThrough: String(through) }, 'partition assigned');
      return state;
    });
  }

  private async scan(topic: TopicKey, partition: number): Promise<bigint> {
    const dir = topicDir(this.opts.root, TOPICS[topic].base);
    let hours: string[];
    try {
      hours = (await readdir(dir)).filter((d) => hourFromDir(d) !== undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1n;
      throw err;
    }
    let through = -1n;
    for (const h of hours) {
      const names = await readdir(`${dir}/${h}`);
      const last = archivedThrough(names).get(partition);
      if (last !== undefined && last > through) through = last;
      for (const n of names) {
        if (tempFilePartition(n) !== partition) continue;
        await rm(`${dir}/${h}/${n}`, { force: true });
        this.log.warn({ file: `${dir}/${h}/${n}` }, 'removed a half-written file');
      }
    }
    return through;
  }

  private async flushDue(): Promise<void> {
    const now = Date.now();
    for (const [key, s] of this.states) {
      if (s.held.length === 0 || now - s.since < this.opts.flushMs) continue;
      try {
        await this.flush(key);
      } catch (err) {
        this.log.warn({ err, key }, 'archive write failed; retrying at the next tick');
      }
    }
  }

  private flush(key: string): Promise<void> {
    return this.enqueue(() => this.write(key));
  }

  private enqueue<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Writes what a partition holds now, a file per hour run; records taken meanwhile wait. */
  private async write(key: string): Promise<void> {
    const state = this.states.get(key);
    if (!state || state.held.length === 0) return;
    const ours = (): boolean => this.states.get(key) === state;
    const base = TOPICS[state.topic].base;
    const started = process.hrtime.bigint();
    for (const run of runsByHour(state.held.slice())) {
      const firstOffset = BigInt(run.records[0]!.offset);
      const lastOffset = BigInt(run.records[run.records.length - 1]!.offset);
      const name = fileName({ partition: state.partition, first: firstOffset, last: lastOffset });
      const bytes = await this.writer.write(
        hourDir(this.opts.root, base, run.hour),
        name,
        fileColumns(run.records),
        run.records.map((h) => h.row),
        ours,
      );
      if (bytes === undefined) return;
      state.held.splice(0, run.records.length);
      if (state.held.length) state.since = Date.now();
      this.m.held.dec(run.records.length);
      this.m.files.inc({ topic: base });
      this.m.records.inc({ topic: base }, run.records.length);
      this.m.bytes.inc({ topic: base }, bytes);
      this.log.debug({ topic: base, hour: run.hour, file: name, records: run.records.length, bytes }, 'archived');
    }
    this.m.flushSeconds.observe({ topic: base }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/** A held record's row: Kafka's coordinates, then its writer schema's columns. */
function rowOf(r: ConsumedEvent<ArchivedValue>): Record<string, unknown> {
  const { plan, value } = r.event;
  const row: Record<string, unknown> = {
    kafka_topic: r.topic,
    kafka_partition: r.partition,
    kafka_offset: Number(r.offset),
    kafka_timestamp: r.timestamp,
    kafka_key: r.key,
    schema_id: plan.id,
  };
  for (const c of plan.columns) row[c.name] = c.get(value);
  return row;
}

/** Kafka's columns, then those of each writer schema in the file, by schema id. */
function fileColumns(records: readonly Held[]): Column[] {
  const plans = [...new Map(records.map((h) => [h.plan.id, h.plan])).values()].sort((a, b) => a.id - b.id);
  const kafka = KAFKA_COLUMNS.map((c) => ({ ...c, get: () => null }));
  return mergeColumns([kafka, ...plans.map((p) => p.columns)]);
}

interface ArchiveMetrics {
  files: Counter<'topic'>;
  records: Counter<'topic'>;
  bytes: Counter<'topic'>;
  held: Gauge;
  flushSeconds: Histogram<'topic'>;
}

function archiveMetrics(metrics: Metrics): ArchiveMetrics {
  const registers = [metrics.registry];
  return {
    files: new Counter({
      name: 'live_archive_files_total',
      help: 'Parquet files renamed into place',
      labelNames: ['topic'],
      registers,
    }),
    records: new Counter({
      name: 'live_archive_records_total',
      help: 'Records written to Parquet files',
      labelNames: ['topic'],
      registers,
    }),
    bytes: new Counter({
      name: 'live_archive_bytes_total',
      help: 'Bytes of Parquet files written',
      labelNames: ['topic'],
      registers,
    }),
    held: new Gauge({ name: 'live_archive_held_records', help: 'Records taken and not yet in a file', registers }),
    flushSeconds: new Histogram({
      name: 'live_archive_flush_seconds',
      help: "Time to write one partition's held records",
      labelNames: ['topic'],
      buckets: [0.01, 0.05, 0.2, 1, 5, 20],
      registers,
    }),
  };
}
