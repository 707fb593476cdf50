import { errorType, esCall, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import { isRetriable, TransientError } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import { Rounds } from '../../platform/rounds.ts';
import type { Component } from '../../platform/service.ts';
import { writeVersioned, type VersionedWrite } from '../../platform/elasticsearch/bulk-writer.ts';
import { neverWritten, resolveIndex } from '../../platform/elasticsearch/indices.ts';
import { covers, versionOf, type StreamDocument } from '../../domain/discovery/document.ts';
import { fold, type IndexedChange } from './project.ts';
import { WrittenDocuments } from './written.ts';

/**
 * The discovery indexer: live.stream.lifecycle and live.viewer.counts in, one document per
 * stream out. The consumer runner hands it every assigned partition's chunk at once (both topics);
 * the chunks handed over together make a round (platform/rounds.ts). Per round it takes each
 * affected stream's stored document (the one a round still being written is writing, else the
 * last one it wrote itself where nothing else can have written it since, else one _mget; on an
 * index that was empty when it began, a stream it has not written has none), folds the round's
 * changes in with `fold`, and writes each changed document once, whole, with its external version
 * (_bulk). A 409 is accepted only when the stored document already covers what we wrote;
 * otherwise another writer moved it meanwhile and the round is retried from a fresh read.
 *
 * Failures follow the consumer runner: Elasticsearch unreachable or overloaded -> retried with
 * backoff, nothing committed; a document Elasticsearch refuses -> that record is dead-lettered.
 */
export interface IndexerOptions {
  groupId: string;
  /** The alias (live indexing) or a concrete index (a rebuild). */
  target: string;
  /** True when `target` is an alias: a missing alias then waits instead of auto-creating an index. */
  requireAlias: boolean;
  retry?: { initialMs: number; maxMs: number };
  /** Largest chunk of one partition's records handed over at once (default MAX_CHUNK). */
  maxBatch?: number;
  /** Documents remembered as written, to skip reading them back (default WRITTEN_DOCUMENTS; 0: always read). */
  writtenDocuments?: number;
  onFatal?: (err: Error) => void;
  /** A point-in-time rebuild: only records appended up to this time (ms). */
  until?: number;
}

/**
 * Records per partition chunk, and the size at which a round is cut: a round takes chunks until it
 * holds this many records. Each _bulk and _mget carries at most this many documents, about 3 MB
 * (~600 bytes per item, action line included), within Elasticsearch's advice of a few MB to tens
 * of MB per request. In steady state rounds are as small as what arrived, and hold every
 * partition's chunk.
 */
export const MAX_CHUNK = 5000;

/**
 * Rounds being written at once: the next rounds are folded while Elasticsearch indexes the one
 * before, and partitions whose round has landed decode their next chunk meanwhile. With 100,000
 * streams (bench/discovery.ts, 2 shared cores) rounds of one chunk, 2 or 3 in flight, indexed
 * faster than rounds of 4 chunks, one after another or 2 at once; the runs were noisy (the machine
 * is shared), so this is the better of the settings tried, not a measured optimum.
 */
export const ROUNDS_IN_FLIGHT = 3;

/**
 * Partitions whose chunks the runner hands over together: every partition of both topics as the
 * catalog makes them (6 each), so a round can fold a stream's lifecycle and viewer counts.
 */
export const PARTITIONS_AT_ONCE = 12;

/**
 * Documents remembered as written (~1 KB each in memory). While catching up, a live stream's
 * viewer counts come some rounds after its lifecycle events; in steady state these are the
 * streams that change.
 */
export const WRITTEN_DOCUMENTS = 100_000;

export const INDEXED_TOPICS = ['streamLifecycle', 'viewerCounts'] as const;

export class DiscoveryIndexer implements Component {
  readonly name = 'discovery-indexer';
  private consumer: EventConsumer | undefined;
  private readonly rounds = new Rounds<IndexedChange>((changes) => this.write(changes), MAX_CHUNK, ROUNDS_IN_FLIGHT);
  private readonly written: WrittenDocuments;
  /** The documents of the rounds being written, by stream: the newest planned one. */
  private readonly writing = new Map<string, { doc: StreamDocument; done: Promise<void> }>();
  /** The last round's planning: rounds are planned one after another. */
  private planning: Promise<unknown> = Promise.resolve();
  /**
   * Whether this member owns, for every stream it sees, that stream's partition in both topics, so
   * no other member of the group writes its documents. Both topics are keyed by stream id with the
   * same partitioner, so with equal partition counts a stream has the same partition number in
   * each; set once both owned sets and both counts are equal for the current assignment.
   */
  private coPartitioned = false;
  private assignments = 0;
  /** Both topics' partition counts, taken just before the consumer starts. */
  private startCounts: number[] | undefined;
  /** The concrete index `written` describes; another one means the alias moved. */
  private writtenInto: string | undefined;
  /** `writtenInto` changed and nothing was written there by this indexer yet: it may be new and empty. */
  private freshIndex = false;

  constructor(
    private readonly bus: EventBus,
    private readonly es: Elasticsearch,
    private readonly opts: IndexerOptions,
  ) {
    this.written = new WrittenDocuments(opts.writtenDocuments ?? WRITTEN_DOCUMENTS);
  }

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  get groupId(): string {
    return this.opts.groupId;
  }

  async start(): Promise<void> {
    await this.bus.init([...INDEXED_TOPICS]);
    this.startCounts = await this.countPartitions();
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        maxBatch: this.opts.maxBatch ?? MAX_CHUNK,
        partitionsConcurrently: PARTITIONS_AT_ONCE,
        onAssigned: (assignment) => this.assigned(assignment),
        ...(this.opts.retry && { retry: this.opts.retry }),
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
        ...(this.opts.until !== undefined && { until: this.opts.until }),
      })
      .on(this.bus.topic('streamLifecycle'), (records) =>
        this.apply(records.map((r) => ({ source: 'lifecycle', offset: Number(r.version), event: r.event }))),
      )
      .on(this.bus.topic('viewerCounts'), (records) =>
        this.apply(records.map((r) => ({ source: 'viewers', offset: Number(r.version), event: r.event }))),
      );
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  /** Resolves once `changes` are written, in a round with whatever other partitions handed over meanwhile. */
  apply(changes: IndexedChange[]): Promise<void> {
    return this.rounds.submit(changes);
  }

  /**
   * One round. Rounds are planned one at a time, in order (`planned`), and written while the round
   * before may still be writing: a stream in that round starts from the document being written
   * there (`writing`), and this round then settles only once that write has, failing with it, so
   * nothing is committed on the strength of a write that did not land.
   */
  private async write(changes: IndexedChange[]): Promise<void> {
    let landed!: (ok: boolean) => void;
    const done = new Promise<void>((resolve, reject) => {
      landed = (ok) => (ok ? resolve() : reject(new TransientError('a round this one built on was not written')));
    });
    done.catch(() => undefined);
    const planned = this.planning.then(() => this.plan(changes, done));
    this.planning = planned.catch(() => undefined);
    let plan: Awaited<typeof planned>;
    try {
      plan = await planned;
    } catch (err) {
      landed(false);
      throw err;
    }
    const { next, trusted, generation, into, builtOn } = plan;
    try {
      const conflicts = await this.bulk([...next].map(([id, doc]) => ({ id, version: versionOf(doc), doc })));
      landed(true);
      // A rebalance or another index meanwhile emptied `written`; what this round wrote is not added back.
      const remember = trusted && generation === this.assignments && into === this.writtenInto;
      if (remember) for (const [id, doc] of next) if (!conflicts.has(id)) this.written.set(id, doc);
      if (conflicts.size) await this.settleConflicts(conflicts, next, remember);
    } catch (err) {
      landed(false);
      this.written.incomplete();
      throw err;
    } finally {
      for (const id of next.keys()) if (this.writing.get(id)?.done === done) this.writing.delete(id);
    }
    const before = await Promise.allSettled(builtOn);
    if (before.some((r) => r.status === 'rejected'))
      throw new TransientError('a round this one built on was not written; applying it again');
  }

  /** The round's documents: each stream's stored one (see `trustWritten`) with the round folded in. */
  private async plan(changes: IndexedChange[], done: Promise<void>) {
    const generation = this.assignments;
    let trusted = await this.trustWritten();
    if (!trusted) {
      // Read back, a stream must show what the rounds still writing put there.
      await Promise.allSettled([...this.writing.values()].map((w) => w.done));
      // A new index that nothing was ever written to: every document of it will be written here.
      if (this.freshIndex && this.writtenInto && (await neverWritten(this.es, this.writtenInto).catch(() => false))) {
        this.written.markComplete();
        trusted = this.written.complete;
      }
      this.freshIndex = false;
    }
    const base = new Map<string, StreamDocument>();
    const builtOn = new Set<Promise<void>>();
    const unknown: string[] = [];
    for (const id of new Set(changes.map((c) => c.event.streamId))) {
      const inFlight = trusted ? this.writing.get(id) : undefined;
      const doc = inFlight?.doc ?? (trusted ? this.written.get(id) : undefined);
      if (inFlight) builtOn.add(inFlight.done);
      if (doc) base.set(id, doc);
      else if (!trusted || !this.written.complete) unknown.push(id);
    }
    for (const [id, doc] of await this.read(unknown)) base.set(id, doc);
    const next = fold(base, changes);
    for (const [id, doc] of next) this.writing.set(id, { doc, done });
    return { next, trusted, generation, into: this.writtenInto, builtOn: [...builtOn] };
  }

  /** 409s: accepted where the stored document covers ours, else the round is retried from a fresh read. */
  private async settleConflicts(
    conflicts: Set<string>,
    next: Map<string, StreamDocument>,
    remember: boolean,
  ): Promise<void> {
    const now = await this.read([...conflicts]);
    let overtaken = 0;
    for (const id of conflicts) {
      const current = now.get(id);
      if (current && covers(current, next.get(id)!)) {
        if (remember) this.written.set(id, current);
      } else {
        this.written.delete(id);
        overtaken++;
      }
    }
    if (overtaken) throw new TransientError(`${overtaken} document(s) changed under the write; re-reading`);
  }

  /**
   * Whether the documents this indexer wrote can stand for the stored ones in this round: only
   * while nothing else writes them. Another member of the group could, unless the assignment is
   * co-partitioned (`assigned` empties them on every rebalance). Another group could write the
   * same index: a rebuild writes its index alone until it is swapped in (then an alias points at
   * it and the live indexer writes there too), and the live indexer's alias moving to a rebuilt
   * index empties them. What is left, the rebuild's catch-up while the live indexer already
   * writes the new index, is the window in which a read-then-write can cross another writer
   * anyway; each writer's own later events put its documents right again.
   */
  private async trustWritten(): Promise<boolean> {
    if (!this.coPartitioned) {
      this.written.clear();
      return false;
    }
    const resolved = await resolveIndex(this.es, this.opts.target).catch(() => undefined);
    const sole = this.opts.requireAlias || !resolved?.aliased ? resolved?.index : undefined;
    if (sole === this.writtenInto) return sole !== undefined;
    // A new index (or none): this round reads back, after the rounds still writing have landed.
    this.written.clear();
    this.writtenInto = sole;
    this.freshIndex = true;
    return false;
  }

  private assigned(assignment: Record<string, number[]>): void {
    this.written.clear();
    this.coPartitioned = false;
    const generation = ++this.assignments;
    const [a, b] = this.topics().map((t) => [...(assignment[t] ?? [])].sort((x, y) => x - y).join());
    if (a !== b) return;
    const decide = ([x, y]: number[]): void => {
      if (generation === this.assignments) this.coPartitioned = x === y;
    };
    // The counts taken at start serve the first assignment; a later one may follow added partitions.
    const counts = this.startCounts;
    this.startCounts = undefined;
    if (counts) decide(counts);
    else
      void this.countPartitions().then(decide, (err: unknown) =>
        this.bus.log.warn({ err }, 'partition counts unknown: reading every document back'),
      );
  }

  private topics(): string[] {
    return INDEXED_TOPICS.map((k) => this.bus.topicName(k));
  }

  private countPartitions(): Promise<number[]> {
    return this.bus.withAdmin((admin) =>
      Promise.all(this.topics().map(async (t) => (await admin.topicOffsets(t)).length)),
    );
  }

  /** Writes in requests of at most MAX_CHUNK documents; returns the ids refused with 409. */
  private async bulk(writes: VersionedWrite[]): Promise<Set<string>> {
    const outcomes = await settleAll(slices(writes), (slice) =>
      writeVersioned(this.es, this.opts.target, slice, { requireAlias: this.opts.requireAlias }),
    );
    return new Set(outcomes.flatMap((o) => o.conflicts));
  }

  private async read(ids: string[]): Promise<Map<string, StreamDocument>> {
    const docs = new Map<string, StreamDocument>();
    await settleAll(slices(ids), async (slice) => {
      const res = await esCall('mget', () =>
        this.es.mget<StreamDocument>({ index: this.opts.target, ids: slice }),
      ).catch((err: unknown) => {
        // No alias means someone is moving it or has not made it yet: wait, never dead-letter for it.
        if (errorType(err) === 'index_not_found_exception')
          throw new TransientError(`${this.opts.target} does not exist`, { cause: err });
        throw err;
      });
      for (const d of res.docs) {
        if ('error' in d) throw new TransientError(`mget ${d._id}: ${d.error.type} ${d.error.reason ?? ''}`);
        if (d.found && d._source) docs.set(d._id, d._source);
      }
    });
    return docs;
  }
}

const slices = <T>(items: T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / MAX_CHUNK) }, (_, i) =>
    items.slice(i * MAX_CHUNK, (i + 1) * MAX_CHUNK),
  );

/**
 * Runs `fn` over every item, one after another, to the end even when one fails (a round's
 * requests all end before it is retried); then a retriable failure wins over any other, so the
 * round is retried whole before anything is blamed on a record.
 */
async function settleAll<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const failures: unknown[] = [];
  const out: R[] = [];
  for (const item of items) {
    try {
      out.push(await fn(item));
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length) throw failures.find(isRetriable) ?? failures[0];
  return out;
}
