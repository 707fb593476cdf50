import { Counter, Histogram } from 'prom-client';
import type { MediaEvent } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { ConsumedEvent, EventConsumer } from '../../platform/kafka/consumer.ts';
import type { StartPosition } from '../../platform/kafka/start.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import { mediaUrlPath } from '../../domain/media/hls-paths.ts';

/**
 * The CDN prefetcher: every PartReady, SegmentReady (and ThumbnailReady) is fetched through every
 * configured edge as soon as it is announced, so the edge holds the object before the packager
 * has even listed it, and the first player to ask gets a HIT. With LL-HLS a part is listed within
 * a part target (~0.3 s) of being written and every player asks for it then, so a cold edge puts
 * its origin round trip on every viewer's part. The init section a run's parts and segments name
 * is warmed once per run (its name changes with each run). Parts, segments and init sections are
 * immutable, so a warm copy is never wrong.
 *
 * Best effort: a failed or slow fetch is counted and logged, never retried into a backlog, and
 * never holds the partition (the player's own request will fill the cache then). Events older
 * than `maxAgeMs` (a backlog after downtime) are skipped: their segments have left the playlists.
 */
export interface PrefetcherOptions {
  groupId: string;
  /** Edge base URLs, e.g. http://127.0.0.1:8088. */
  edges: string[];
  timeoutMs: number;
  maxAgeMs: number;
  /** Fetches in flight at once, over all edges. */
  concurrency: number;
  /**
   * Where a group with no committed offsets starts: 'latest', the newest records (production), or
   * 'earliest' (tests: no race between joining and the first record; old ones are skipped by age).
   */
  from?: StartPosition;
  onFatal?: (err: Error) => void;
  now?: () => number;
}

/** Init sections remembered as warmed: far more than the runs live at once. */
const MAX_INITS = 10_000;

export class CdnPrefetcher implements Component {
  readonly name = 'cdn-prefetcher';
  private consumer: EventConsumer | undefined;
  private readonly fetches: Counter<'edge' | 'result'>;
  private readonly seconds: Histogram<'edge'>;
  private readonly skipped: Counter;
  /** Init sections warmed (`streamId/initUri`), oldest first; a run's init is named once. */
  private readonly inits = new Set<string>();

  constructor(
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly opts: PrefetcherOptions,
  ) {
    const registers = [bus.metrics.registry];
    this.fetches = new Counter({
      name: 'live_cdn_prefetch_total',
      help: 'Objects fetched through an edge ahead of players: warmed (the edge fetched it), already (it had it), failed',
      labelNames: ['edge', 'result'],
      registers,
    });
    this.seconds = new Histogram({
      name: 'live_cdn_prefetch_seconds',
      help: 'Time to fetch one object through one edge',
      labelNames: ['edge'],
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
    this.skipped = new Counter({
      name: 'live_cdn_prefetch_skipped_total',
      help: 'Announcements too old to be worth warming',
      registers,
    });
  }

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  /** Resolves once the group has been assigned partitions. */
  joined: Promise<void> = Promise.resolve();

  async start(): Promise<void> {
    await this.bus.init(['mediaSegments']);
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: this.opts.from ?? 'latest',
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(this.bus.topic('mediaSegments'), (records) => this.handle(records));
    this.joined = this.consumer.onceJoined();
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  async handle(records: ConsumedEvent<MediaEvent>[]): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    const paths: string[] = [];
    for (const { event } of records) {
      const p = event.payload;
      if (p.type !== 'PartReady' && p.type !== 'SegmentReady' && p.type !== 'ThumbnailReady') continue;
      if (now - event.occurredAt > this.opts.maxAgeMs) {
        this.skipped.inc();
        continue;
      }
      const init = p.type === 'ThumbnailReady' ? null : p.initUri;
      if (init && !this.inits.has(`${event.streamId}/${init}`)) {
        this.inits.add(`${event.streamId}/${init}`);
        if (this.inits.size > MAX_INITS) this.inits.delete(this.inits.values().next().value!);
        paths.push(mediaUrlPath(event.streamId, init));
      }
      paths.push(mediaUrlPath(event.streamId, p.uri));
    }
    const jobs = paths.flatMap((path) => this.opts.edges.map((edge) => () => this.warm(edge, path)));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) await jobs[next++]!();
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, jobs.length) }, worker));
  }

  private async warm(edge: string, path: string): Promise<void> {
    const started = performance.now();
    try {
      const res = await fetch(`${edge}${path}`, { signal: AbortSignal.timeout(this.opts.timeoutMs) });
      // Read to the end: nginx keeps an object only once the whole of it has arrived.
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const status = res.headers.get('x-cache-status');
      this.fetches.inc({ edge, result: status === 'MISS' ? 'warmed' : 'already' });
    } catch (err) {
      this.fetches.inc({ edge, result: 'failed' });
      this.log.warn({ err, edge, path }, 'prefetch failed');
    } finally {
      this.seconds.observe({ edge }, (performance.now() - started) / 1000);
    }
  }
}
