import { createHash } from 'node:crypto';
import { Counter, Histogram } from 'prom-client';
import type { VodRecorded } from '../../schemas/generated/events.ts';
import { PoisonRecordError } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import type { StartPosition } from '../../platform/kafka/start.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import { isSafeName, isSafeRelativePath, layout } from '../../domain/media/layout.ts';
import { listable, renderMaster, renderMedia, vodSegments, type SegmentEntry } from './playlists.ts';
import {
  apply,
  emptyPackage,
  noEffects,
  playableRenditions,
  type Effects,
  type PackagerInput,
  type StreamPackage,
} from './state.ts';
import type { PackagerStorage } from './storage.ts';

/**
 * The packager: live.media.segments and live.stream.lifecycle in, HLS playlists on origin storage
 * out (see layout.ts), and live.vod.recordings when a recorded stream ends.
 *
 * Per chunk of records: every record is checked first (a bad one is dead-lettered before anything
 * changes), then folded into its stream's state (`apply`), then per stream the effects run in
 * order: journal appends, live playlists, master, VOD (and its announcement), and last the state
 * itself. The consumer commits only after that, so a crash replays the chunk and the offset guards
 * in the saved state skip what was done. A segment whose file is not on disk is never listed.
 *
 * State lives in memory for active streams and on disk (<stream>/.packager/state.json) for all,
 * so a restarted packager, or another instance taking over a partition, continues where the last
 * saved state stands.
 */
export interface PackagerOptions {
  groupId: string;
  /** Segments in a live media playlist. */
  windowSize: number;
  /** Publish VodRecorded (false for a rebuild: the VOD was announced when it happened). */
  announce: boolean;
  /** 'earliest': read the topics from their start when the group has no offsets (a rebuild; a new deployment). */
  from: StartPosition;
  /** Point-in-time rebuilds: records appended after this time are passed over. */
  until?: number;
  retry?: { initialMs: number; maxMs: number };
  onFatal?: (err: Error) => void;
  /** Streams kept in memory; others are read back from their saved state when they speak again. */
  maxCachedStreams?: number;
}

const SEGMENT_URI = /\.ts$/;

export class Packager implements Component {
  readonly name = 'packager';
  private consumer: EventConsumer | undefined;
  private producer: EventProducer | undefined;
  private readonly cache = new Map<string, StreamPackage>();
  /** Missing segments already reported, so a file that stays missing is logged once. */
  private readonly reported = new Set<string>();
  private readonly segments: Counter<'result'>;
  private readonly writes: Counter<'kind'>;
  private readonly listedDelay: Histogram;

  constructor(
    private readonly bus: EventBus,
    private readonly storage: PackagerStorage,
    private readonly log: Logger,
    private readonly opts: PackagerOptions,
  ) {
    const registers = [bus.metrics.registry];
    this.segments = new Counter({
      name: 'live_packager_segments_total',
      help: 'Segments handled: listed, or missing on disk (never listed)',
      labelNames: ['result'],
      registers,
    });
    this.writes = new Counter({
      name: 'live_packager_playlist_writes_total',
      help: 'Playlists written, by kind (master, media, vod)',
      labelNames: ['kind'],
      registers,
    });
    this.listedDelay = new Histogram({
      name: 'live_packager_listed_delay_seconds',
      help: "From a segment's last frame (program date time + duration) to its live playlist written",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    });
  }

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  /** Resolves once the consumer group has been assigned partitions (tests, rebuilds). */
  joined: Promise<void> = Promise.resolve();

  async start(): Promise<void> {
    await this.bus.init([
      'mediaSegments',
      'streamLifecycle',
      ...(this.opts.announce ? (['vodRecordings'] as const) : []),
    ]);
    if (this.opts.announce) {
      this.producer = this.bus.producer();
      await this.producer.connect();
    }
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: this.opts.from,
        ...(this.opts.until !== undefined && { until: this.opts.until }),
        ...(this.opts.retry && { retry: this.opts.retry }),
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(this.bus.topic('mediaSegments'), (records) =>
        this.handle(records.map((r) => ({ source: 'media', offset: Number(r.offset), event: r.event }))),
      )
      .on(this.bus.topic('streamLifecycle'), (records) =>
        this.handle(records.map((r) => ({ source: 'lifecycle', offset: Number(r.offset), event: r.event }))),
      );
    this.joined = this.consumer.onceJoined();
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.producer?.disconnect();
  }

  async handle(inputs: PackagerInput[]): Promise<void> {
    for (const input of inputs) check(input);
    const touched = new Map<string, { state: StreamPackage; effects: Effects }>();
    for (const input of inputs) {
      const id = input.event.streamId;
      const before = touched.get(id);
      const effects = before?.effects ?? noEffects();
      const state = apply(before ? before.state : await this.load(id), input, this.opts.windowSize, effects);
      touched.set(id, { state, effects });
    }
    for (const { state, effects } of touched.values()) {
      await this.execute(state, effects);
      await this.storage.saveState(state);
      this.remember(state);
    }
  }

  private async load(streamId: string): Promise<StreamPackage | undefined> {
    const saved = this.cache.get(streamId) ?? (await this.storage.loadState(streamId));
    // A state saved before a field existed gets the field's empty value.
    return saved && { ...emptyPackage(streamId), ...saved };
  }

  private remember(state: StreamPackage): void {
    this.cache.delete(state.streamId);
    // An ended stream rarely speaks again (a late segment): its saved state serves then.
    if (state.status === 'ended') return;
    this.cache.set(state.streamId, state);
    const max = this.opts.maxCachedStreams ?? 10_000;
    if (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
  }

  private async execute(p: StreamPackage, effects: Effects): Promise<void> {
    const byRendition = new Map<string, SegmentEntry[]>();
    for (const { rendition, segment } of effects.record) {
      byRendition.set(rendition, [...(byRendition.get(rendition) ?? []), segment]);
    }
    for (const [rendition, segments] of byRendition) await this.storage.append(p.streamId, rendition, segments);

    for (const rendition of effects.media) await this.writeMedia(p, rendition, byRendition.get(rendition) ?? []);
    const playable = playableRenditions(p);
    if (effects.master && playable.length) {
      await this.storage.write(p.streamId, layout.master, renderMaster(playable, layout.media));
      this.writes.inc({ kind: 'master' });
    }
    if (effects.vod) await this.writeVod(p);
  }

  /** Rewrites a live playlist; `fresh` are the segments this chunk admitted to it. */
  private async writeMedia(p: StreamPackage, rendition: string, fresh: SegmentEntry[]): Promise<void> {
    const track = p.tracks[rendition];
    if (!track) return;
    const present = await this.presentOf(p.streamId, track.window);
    const { segments, discontinuitySequence, missing } = listable(track.window, track.discontinuitySequence, (s) =>
      present.has(s.sequence),
    );
    this.reportMissing(p.streamId, missing);
    await this.storage.write(
      p.streamId,
      layout.media(rendition),
      renderMedia({
        targetDurationS: track.targetDurationS,
        nextSequence: track.lastSequence + 1,
        discontinuitySequence,
        segments,
        ended: p.status === 'ended',
      }),
    );
    this.writes.inc({ kind: 'media' });
    const now = Date.now();
    for (const s of fresh) {
      if (!segments.includes(s)) continue;
      this.segments.inc({ result: 'listed' });
      this.listedDelay.observe(Math.max(0, now - s.programDateTime - s.durationMs) / 1000);
    }
  }

  private async writeVod(p: StreamPackage): Promise<void> {
    if (!p.ladder) {
      this.log.warn({ streamId: p.streamId }, 'stream ended without a rendition ladder: no VOD');
      return;
    }
    const written: Array<{ name: string; count: number; durationMs: number }> = [];
    for (const r of p.ladder.renditions) {
      const journal = await this.storage.journal(p.streamId, r.name);
      if (!journal.length) continue;
      const present = await this.presentOf(p.streamId, journal);
      const { segments, missing } = vodSegments(journal, (s) => present.has(s.sequence));
      this.reportMissing(p.streamId, missing);
      if (!segments.length) continue;
      const targetDurationS = p.tracks[r.name]?.targetDurationS ?? 1;
      await this.storage.write(
        p.streamId,
        layout.vodMedia(r.name),
        renderMedia({ targetDurationS, discontinuitySequence: 0, segments, ended: true, vod: true }),
      );
      this.writes.inc({ kind: 'vod' });
      written.push({
        name: r.name,
        count: segments.length,
        durationMs: segments.reduce((n, s) => n + s.durationMs, 0),
      });
    }
    if (!written.length) {
      this.log.warn({ streamId: p.streamId }, 'recorded stream ended with no segment on disk: no VOD');
      return;
    }
    const names = new Set(written.map((w) => w.name));
    await this.storage.write(
      p.streamId,
      layout.vodMaster,
      renderMaster(
        p.ladder.renditions.filter((r) => names.has(r.name)),
        layout.vodMedia,
      ),
    );
    const longest = written.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    const endedAt = p.endedAt ?? Date.now();
    const event: VodRecorded = {
      eventId: contentId(`${p.streamId}/vod/${longest.count}/${longest.durationMs}`),
      occurredAt: Date.now(),
      streamId: p.streamId,
      playlistUri: `${p.streamId}/${layout.vodMaster}`,
      durationMs: longest.durationMs,
      segmentCount: longest.count,
      startedAt: p.startedAt ?? p.firstSegmentAt ?? endedAt,
      endedAt,
      ladder: { ...p.ladder, renditions: p.ladder.renditions.filter((r) => written.some((w) => w.name === r.name)) },
      thumbnail: p.thumbnail,
    };
    this.log.info({ ...event, renditions: written }, 'VOD written');
    if (this.producer) await this.producer.publish(this.bus.topic('vodRecordings'), [event]);
  }

  /** Sequences of `segments` whose files are on disk. */
  private async presentOf(streamId: string, segments: SegmentEntry[]): Promise<Set<number>> {
    const present = new Set<number>();
    for (let i = 0; i < segments.length; i += 64) {
      const slice = segments.slice(i, i + 64);
      const found = await Promise.all(slice.map((s) => this.storage.present(streamId, s.uri)));
      slice.forEach((s, j) => found[j] && present.add(s.sequence));
    }
    return present;
  }

  private reportMissing(streamId: string, missing: SegmentEntry[]): void {
    for (const s of missing) {
      const key = `${streamId}/${s.uri}`;
      if (this.reported.has(key)) continue;
      if (this.reported.size >= 100_000) this.reported.clear();
      this.reported.add(key);
      this.segments.inc({ result: 'missing' });
      this.log.warn(
        { streamId, uri: s.uri, sequence: s.sequence },
        'segment announced but its file is not on disk; not listed',
      );
    }
  }
}

/** Names from events become paths: anything that could leave the stream's folder is refused. */
function check(input: PackagerInput): void {
  const bad = (why: string) => new PoisonRecordError(`${input.source} event ${input.event.eventId}: ${why}`, 'invalid');
  if (!isSafeName(input.event.streamId)) throw bad(`unsafe stream id ${JSON.stringify(input.event.streamId)}`);
  if (input.source !== 'media') return;
  const e = input.event.payload;
  if (e.type === 'SegmentReady') {
    if (!isSafeName(e.rendition)) throw bad(`unsafe rendition ${JSON.stringify(e.rendition)}`);
    if (!isSafeRelativePath(e.uri) || !SEGMENT_URI.test(e.uri))
      throw bad(`unsafe segment uri ${JSON.stringify(e.uri)}`);
  } else if (e.type === 'RenditionLadder') {
    const unsafe = e.renditions.find((r) => !isSafeName(r.name));
    if (unsafe) throw bad(`unsafe rendition ${JSON.stringify(unsafe.name)}`);
  }
}

/**
 * A UUID (version 8, RFC 9562) derived from content: announcing the same VOD again after a crash
 * gives the same event id, and consumers drop the repeat.
 */
export function contentId(content: string): string {
  const h = createHash('sha256').update(content).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
