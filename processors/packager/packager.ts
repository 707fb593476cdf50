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
import { mediaAddress } from '../../domain/media/hls-paths.ts';
import {
  listable,
  listableParts,
  renderMaster,
  renderMedia,
  vodSegments,
  emptyDvr,
  extendDvr,
  type DvrTrack,
  type LowLatency,
  type PartEntry,
  type SegmentEntry,
} from './playlists.ts';
import {
  apply,
  newestPart,
  noEffects,
  playableRenditions,
  restored,
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
 * in the saved state skip what was done. A segment or part whose file is not on disk is never listed.
 *
 * LL-HLS: a part (about three a second per rendition) changes its playlist and, through the
 * rendition reports, every other rendition's; effects are merged over the chunk, so each playlist
 * is written once per chunk however many parts it brought. Files are checked on disk until seen
 * once (`onDisk`), so a write stats only what is new.
 *
 * State lives in memory for active streams and on disk (<stream>/.packager/state.json) for all,
 * so a restarted packager, or another instance taking over a partition, continues where the last
 * saved state stands.
 */
export interface PackagerOptions {
  groupId: string;
  /** Segments in a live media playlist. */
  windowSize: number;
  /** How far back a live stream's DVR playlists reach, in ms; 0 writes none. */
  dvrWindowMs?: number;
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

/** A segment: '000042.ts' (MPEG-TS) or '000042.m4s' (CMAF), never a part's name. */
const SEGMENT_URI = /(?:^|\/)[A-Za-z0-9_-]+\.(?:ts|m4s)$/;
/** An init section in its rendition's folder: '720p/init-000040.mp4'. */
const INIT_URI = /^([A-Za-z0-9_-]+)\/init-\d{6,}\.mp4$/;

export class Packager implements Component {
  readonly name = 'packager';
  private consumer: EventConsumer | undefined;
  private producer: EventProducer | undefined;
  private readonly cache = new Map<string, StreamPackage>();
  /** Missing segments and parts already reported, so a file that stays missing is logged once. */
  private readonly reported = new Set<string>();
  /**
   * Per `<stream>/<rendition>`: listed files seen on disk. Workers rename a file into place before
   * announcing it and never remove a listed one, so a file seen once is not checked again.
   */
  private readonly onDisk = new Map<string, Set<string>>();
  /** Each live rendition's DVR window ('<streamId>/<rendition>'), read from its journal once after a start. */
  private readonly dvr = new Map<string, DvrTrack>();
  private readonly segments: Counter<'result'>;
  private readonly writes: Counter<'kind'>;
  private readonly listedDelay: Histogram;
  private readonly partListedDelay: Histogram;

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
      help: 'Playlists written, by kind (master, media, dvr, vod)',
      labelNames: ['kind'],
      registers,
    });
    this.listedDelay = new Histogram({
      name: 'live_packager_listed_delay_seconds',
      help: "From a segment's last frame (program date time + duration) to its live playlist written",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.partListedDelay = new Histogram({
      name: 'live_packager_part_listed_delay_seconds',
      help: "From an LL-HLS part's last frame (program date time + duration) to the live playlist that lists it written",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
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
      'vodDeletions',
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
      )
      .on(this.bus.topic('vodDeletions'), (records) =>
        this.handle(records.map((r) => ({ source: 'deletion', offset: Number(r.offset), event: r.event }))),
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
    return this.cache.get(streamId) ?? restored(streamId, await this.storage.loadState(streamId));
  }

  private remember(state: StreamPackage): void {
    this.cache.delete(state.streamId);
    // An ended stream rarely speaks again (a late segment): its saved state serves then.
    if (state.status === 'ended') return this.forget(state);
    this.cache.set(state.streamId, state);
    const max = this.opts.maxCachedStreams ?? 10_000;
    if (this.cache.size > max) {
      const oldest = this.cache.values().next().value!;
      this.cache.delete(oldest.streamId);
      this.forget(oldest);
    }
  }

  private forget(state: StreamPackage): void {
    for (const rendition of Object.keys(state.tracks)) {
      this.onDisk.delete(`${state.streamId}/${rendition}`);
      this.dvr.delete(`${state.streamId}/${rendition}`);
    }
  }

  private async execute(p: StreamPackage, effects: Effects): Promise<void> {
    const byRendition = new Map<string, SegmentEntry[]>();
    for (const { rendition, segment } of effects.record) {
      byRendition.set(rendition, [...(byRendition.get(rendition) ?? []), segment]);
    }
    for (const [rendition, segments] of byRendition) await this.storage.append(p.streamId, rendition, segments);

    for (const rendition of effects.media) {
      const parts = effects.parts.filter((x) => x.rendition === rendition).map((x) => x.part);
      await this.writeMedia(p, rendition, byRendition.get(rendition) ?? [], parts);
    }
    if (this.opts.dvrWindowMs) {
      // Ended: the DVR playlists get ENDLIST too, so players behind live stop reloading them.
      const renditions = p.status === 'ended' ? effects.media : byRendition.keys();
      for (const rendition of renditions) await this.writeDvr(p, rendition, byRendition.get(rendition) ?? []);
    }
    const playable = playableRenditions(p);
    if (effects.master && playable.length) {
      const cmaf = Object.values(p.tracks).some((t) => t.pending.length || t.window.some((s) => s.initUri));
      await this.storage.write(p.streamId, layout.master, renderMaster(playable, layout.media, cmaf));
      if (this.opts.dvrWindowMs)
        await this.storage.write(p.streamId, layout.dvrMaster, renderMaster(playable, layout.dvrMedia, cmaf));
      this.writes.inc({ kind: 'master' });
    }
    // A deleted recording is never written or announced again (a deletion in the same batch included).
    if (effects.vod && p.deletedAt === null) await this.writeVod(p);
  }

  /** Rewrites a live playlist; `fresh` and `freshParts` are what this chunk admitted to it. */
  private async writeMedia(
    p: StreamPackage,
    rendition: string,
    fresh: SegmentEntry[],
    freshParts: PartEntry[],
  ): Promise<void> {
    const track = p.tracks[rendition];
    if (!track) return;
    const uris = [...track.window, ...track.parts, ...track.pending].map((x) => x.uri);
    const present = await this.present(p.streamId, rendition, uris);
    const { segments, discontinuitySequence, missing } = listable(track.window, track.discontinuitySequence, (s) =>
      present.has(s.uri),
    );
    this.reportMissing(p.streamId, missing);
    const ended = p.status === 'ended';
    const partTargetMs = p.ladder?.partTargetMs ?? 0;
    let ll: LowLatency | undefined;
    if (partTargetMs > 0) {
      const listed = listableParts({
        segments,
        parts: track.parts,
        pending: track.pending,
        targetDurationS: track.targetDurationS,
        ended,
        present: (x) => present.has(x.uri),
      });
      this.reportMissing(p.streamId, listed.missing);
      ll = {
        rendition,
        partTargetMs,
        parts: listed.parts,
        inProgress: listed.inProgress,
        reports: reports(p, rendition),
      };
    }
    await this.storage.write(
      p.streamId,
      layout.media(rendition),
      renderMedia({
        targetDurationS: track.targetDurationS,
        nextSequence: track.lastSequence + 1,
        discontinuitySequence,
        segments,
        ended,
        ...(ll && { ll }),
      }),
    );
    this.writes.inc({ kind: 'media' });
    const now = Date.now();
    const since = (x: SegmentEntry | PartEntry) => Math.max(0, now - x.programDateTime - x.durationMs) / 1000;
    for (const s of fresh) {
      if (!segments.includes(s)) continue;
      this.segments.inc({ result: 'listed' });
      this.listedDelay.observe(since(s));
    }
    for (const x of freshParts) {
      if (ll?.inProgress.includes(x) || ll?.parts.includes(x)) this.partListedDelay.observe(since(x));
    }
  }

  /**
   * Rewrites a rendition's DVR playlist with what this chunk recorded: every whole segment of the
   * window, from the recording's journal (read once per start), so a viewer can rewind up to the
   * window and the live playlists stay small. A segment whose file went missing 404s when sought;
   * the live playlists, which players reload every second, are the ones checked against the disk.
   */
  private async writeDvr(p: StreamPackage, rendition: string, fresh: SegmentEntry[]): Promise<void> {
    const track = p.tracks[rendition];
    if (!track) return;
    const key = `${p.streamId}/${rendition}`;
    let dvr = this.dvr.get(key);
    if (!dvr) {
      const journal = await this.storage.journal(p.streamId, rendition);
      dvr = extendDvr(emptyDvr(), vodSegments(journal, () => true).segments, this.opts.dvrWindowMs!);
    } else dvr = extendDvr(dvr, fresh, this.opts.dvrWindowMs!);
    this.dvr.set(key, dvr);
    await this.storage.write(
      p.streamId,
      layout.dvrMedia(rendition),
      renderMedia({
        targetDurationS: track.targetDurationS,
        nextSequence: track.lastSequence + 1,
        discontinuitySequence: dvr.discontinuitySequence,
        segments: dvr.segments,
        ended: p.status === 'ended',
        dvr: true,
      }),
    );
    this.writes.inc({ kind: 'dvr' });
  }

  private async writeVod(p: StreamPackage): Promise<void> {
    if (!p.ladder) {
      this.log.warn({ streamId: p.streamId }, 'stream ended without a rendition ladder: no VOD');
      return;
    }
    const written: Array<{ name: string; cmaf: boolean; count: number; durationMs: number }> = [];
    for (const r of p.ladder.renditions) {
      const journal = await this.storage.journal(p.streamId, r.name);
      if (!journal.length) continue;
      const present = await this.statAll(
        p.streamId,
        journal.map((s) => s.uri),
      );
      const { segments, missing } = vodSegments(journal, (s) => present.has(s.uri));
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
        cmaf: segments.some((s) => s.initUri),
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
        written.some((w) => w.cmaf),
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

  /** Those of a live playlist's `uris` whose files are on disk; only those not seen yet are checked. */
  private async present(streamId: string, rendition: string, uris: string[]): Promise<Set<string>> {
    const key = `${streamId}/${rendition}`;
    const seen = this.onDisk.get(key) ?? new Set<string>();
    const found = await this.statAll(
      streamId,
      uris.filter((u) => !seen.has(u)),
    );
    // Only what the playlist still names is kept: the set stays the size of the window.
    const present = new Set(uris.filter((u) => seen.has(u) || found.has(u)));
    this.onDisk.set(key, present);
    return present;
  }

  /** Those of `uris` whose files are on disk. */
  private async statAll(streamId: string, uris: string[]): Promise<Set<string>> {
    const present = new Set<string>();
    for (let i = 0; i < uris.length; i += 64) {
      const slice = uris.slice(i, i + 64);
      const found = await Promise.all(slice.map((u) => this.storage.present(streamId, u)));
      slice.forEach((u, j) => found[j] && present.add(u));
    }
    return present;
  }

  private reportMissing(streamId: string, missing: Array<SegmentEntry | PartEntry>): void {
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

/** EXT-X-RENDITION-REPORT lines for `rendition`'s playlist: every other rendition of the ladder that has something listed. */
function reports(p: StreamPackage, rendition: string): LowLatency['reports'] {
  return (p.ladder?.renditions ?? []).flatMap((r) => {
    const track = p.tracks[r.name];
    const newest = r.name !== rendition && track ? newestPart(track) : null;
    return newest ? [{ uri: layout.media(r.name), lastMsn: newest.msn, lastPart: newest.part }] : [];
  });
}

/** Names from events become paths: anything that could leave the stream's folder is refused. */
function check(input: PackagerInput): void {
  const bad = (why: string) => new PoisonRecordError(`${input.source} event ${input.event.eventId}: ${why}`, 'invalid');
  if (!isSafeName(input.event.streamId)) throw bad(`unsafe stream id ${JSON.stringify(input.event.streamId)}`);
  if (input.source !== 'media') return;
  const e = input.event.payload;
  const initOk = (uri: string, rendition: string) => isSafeRelativePath(uri) && INIT_URI.exec(uri)?.[1] === rendition;
  if (e.type === 'SegmentReady') {
    if (!isSafeName(e.rendition)) throw bad(`unsafe rendition ${JSON.stringify(e.rendition)}`);
    if (!isSafeRelativePath(e.uri) || !SEGMENT_URI.test(e.uri))
      throw bad(`unsafe segment uri ${JSON.stringify(e.uri)}`);
    if (e.initUri !== null && !initOk(e.initUri, e.rendition))
      throw bad(`unsafe init uri ${JSON.stringify(e.initUri)}`);
  } else if (e.type === 'PartReady') {
    if (!isSafeName(e.rendition)) throw bad(`unsafe rendition ${JSON.stringify(e.rendition)}`);
    // The preload hint names the next part after this convention, so the name must match the numbers.
    const at = isSafeRelativePath(e.uri) && e.uri.endsWith('.m4s') ? mediaAddress(e.uri) : null;
    if (!at || at.rendition !== e.rendition || at.msn !== e.sequence || at.part !== e.part)
      throw bad(`part uri ${JSON.stringify(e.uri)} is not ${e.rendition}/<sequence>.<part>.m4s of its own numbers`);
    if (!initOk(e.initUri, e.rendition)) throw bad(`unsafe init uri ${JSON.stringify(e.initUri)}`);
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
