import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { EndReason, StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { ProbedSource } from '../../platform/ffmpeg.ts';
import { KeyedLock } from '../../platform/keyed-lock.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { StreamRecord } from '../../domain/stream/evolve.ts';
import { checkStreamKey } from '../../domain/stream/key-check.ts';
import type { MediaPacket, PublishDecision } from './rtmp-server.ts';
import { SourceMeter } from './source-meter.ts';

/**
 * RTMP ingest's domain: which publisher may publish, and the lifecycle events its connection
 * implies. Transport-free (the RTMP server calls in; events go out through `publish`).
 *
 *   publish accepted -> first media -> probe the source (ffprobe on the internal pull URL)
 *     -> StreamWentLive{sourceUrl, ingestNode, width, height, frameRate, codecs}
 *   unpublished (FCUnpublish/deleteStream), then closed -> StreamEnded(PUBLISHER_DISCONNECTED)
 *   socket lost without unpublishing       -> the stream stays live for `reconnectGraceMs`;
 *     the same key publishing again resumes it (a StreamWentLive that keeps the broadcast's
 *     startedAt), else StreamEnded(PUBLISHER_DISCONNECTED) once the grace runs out
 *   no media for `mediaTimeoutMs`          -> connection cut, StreamEnded(INGEST_TIMEOUT)
 *   the stream was ended elsewhere (API)   -> connection cut, no event (it is already ended)
 * Events of one stream are serialised, so StreamEnded never overtakes its StreamWentLive; a
 * publisher that leaves before the probe finishes never went live and emits nothing.
 */
export interface IngestDeps {
  lookupByKeyHash: (hash: string) => StreamRecord | undefined;
  streamStatus: (streamId: string) => StreamRecord['status'] | undefined;
  publish: (events: StreamLifecycleEvent[]) => Promise<void>;
  probe: (url: string) => Promise<ProbedSource>;
  disconnect: (sessionId: string) => void;
  /** Called once a stream's publisher is gone, so its players learn the stream is over. */
  streamGone: (streamId: string) => void;
  pullUrl: (streamId: string) => string;
  ingestNode: string;
  mediaTimeoutMs: number;
  /** How long a live stream whose publisher vanished waits for it to reconnect; 0 ends it at once. */
  reconnectGraceMs: number;
  log: Logger;
  metrics: Metrics;
  clock?: () => number;
}

interface Session {
  sessionId: string;
  streamId: string;
  acceptedAt: number;
  firstMediaAt: number | null;
  lastMediaAt: number;
  /** Frame rate the publisher's encoder declared (onMetaData), preferred over a probe's estimate. */
  declaredFrameRate: number | null;
  wentLive: boolean;
  closed: boolean;
  /** The publisher said it was stopping: its close ends the stream with no grace. */
  unpublished: boolean;
  /** The broadcast this session carries on (a reconnect or a takeover): its startedAt is kept. */
  resumes: number | null;
  /** Set once StreamEnded is decided, so a later close does not end it twice. */
  ending: EndReason | null;
  /** What the encoder sends, read into the stream-health gauges every SOURCE_READING_MS. */
  meter: SourceMeter;
}

/** How often each publisher's bitrate, frame rate and keyframe distance are read into the gauges. */
const SOURCE_READING_MS = 2000;
const SOURCE_GAUGES = ['bits', 'fps', 'keyframe'] as const;

export class Ingest {
  private readonly sessions = new Map<string, Session>();
  private readonly byStream = new Map<string, string>();
  /** Live streams whose publisher vanished, until it reconnects or the grace runs out. */
  private readonly orphaned = new Map<string, { session: Session; until: number }>();
  /** Which ingest node each live stream's newest StreamWentLive named (from the topic). */
  private readonly liveOn = new Map<string, string>();
  private shuttingDown = false;
  private readonly lock = new KeyedLock();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private readonly m: {
    publishers: Gauge;
    refused: Counter<'reason'>;
    live: Counter;
    resumed: Counter;
    orphaned: Gauge;
    ended: Counter<'reason'>;
    source: Record<(typeof SOURCE_GAUGES)[number], Gauge<'stream'>>;
  };
  private lastSourceReading = 0;

  constructor(private readonly deps: IngestDeps) {
    this.now = deps.clock ?? Date.now;
    const registers = [deps.metrics.registry];
    this.m = {
      publishers: new Gauge({ name: 'live_ingest_publishers', help: 'Accepted RTMP publishers connected', registers }),
      refused: new Counter({
        name: 'live_ingest_refused_total',
        help: 'RTMP publishes refused, by reason',
        labelNames: ['reason'],
        registers,
      }),
      live: new Counter({ name: 'live_ingest_went_live_total', help: 'StreamWentLive events emitted', registers }),
      resumed: new Counter({
        name: 'live_ingest_resumed_total',
        help: 'Publishes that carried on a live broadcast (a reconnect within the grace, or a takeover)',
        registers,
      }),
      orphaned: new Gauge({
        name: 'live_ingest_awaiting_reconnect',
        help: 'Live streams whose publisher vanished, held live for its reconnect',
        registers,
      }),
      ended: new Counter({
        name: 'live_ingest_ended_total',
        help: 'StreamEnded events emitted, by reason',
        labelNames: ['reason'],
        registers,
      }),
      // Per live stream, for the streamer's stream-health view; a stream's series go with its publisher.
      source: {
        bits: new Gauge({
          name: 'live_ingest_source_bits_per_second',
          help: "What a publisher's encoder sends (audio and video payloads), over the last reading",
          labelNames: ['stream'],
          registers,
        }),
        fps: new Gauge({
          name: 'live_ingest_source_frames_per_second',
          help: 'Video frames a publisher sends per second, over the last reading',
          labelNames: ['stream'],
          registers,
        }),
        keyframe: new Gauge({
          name: 'live_ingest_source_keyframe_interval_seconds',
          help: "The latest distance between two of a publisher's keyframes, by its timestamps",
          labelNames: ['stream'],
          registers,
        }),
      },
    };
  }

  authorizePublish(sessionId: string, key: string, remoteAddress: string): PublishDecision {
    const check = checkStreamKey(key, this.deps.lookupByKeyHash, (id) => this.byStream.has(id));
    if (!check.ok) {
      this.m.refused.inc({ reason: check.reason });
      this.deps.log.warn({ sessionId, remoteAddress, reason: check.reason }, 'publish refused');
      return { accept: false, reason: check.reason };
    }
    const streamId = check.stream.streamId;
    const now = this.now();
    const held = this.orphaned.get(streamId);
    this.orphaned.delete(streamId);
    this.m.orphaned.set(this.orphaned.size);
    const resumes =
      (held && broadcastStart(held.session)) ?? (check.stream.status === 'live' ? check.stream.startedAt : null);
    this.sessions.set(sessionId, {
      sessionId,
      streamId,
      acceptedAt: now,
      firstMediaAt: null,
      lastMediaAt: now,
      declaredFrameRate: null,
      meter: new SourceMeter(now),
      wentLive: false,
      closed: false,
      unpublished: false,
      resumes,
      ending: null,
    });
    this.byStream.set(streamId, sessionId);
    this.m.publishers.set(this.byStream.size);
    this.deps.log.info(
      { sessionId, streamId, remoteAddress, reconnect: held !== undefined, takeover: !held && resumes !== null },
      'publish accepted',
    );
    return { accept: true, streamId };
  }

  isPublishing(streamId: string): boolean {
    return this.byStream.has(streamId);
  }

  onMetadata(sessionId: string, metadata: Record<string, unknown>): void {
    const s = this.sessions.get(sessionId);
    const fps = Number(metadata.framerate ?? metadata.videoframerate);
    if (s && Number.isFinite(fps) && fps > 0 && fps <= 240) s.declaredFrameRate = Math.round(fps * 1000) / 1000;
  }

  onMedia(sessionId: string, packet: MediaPacket): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    if (packet.kind === 'video') s.meter.video(packet.dtsMs, packet.data);
    else s.meter.audio(packet.bytes);
    s.lastMediaAt = this.now();
    if (s.firstMediaAt !== null) return;
    s.firstMediaAt = s.lastMediaAt;
    this.track(
      this.lock
        .run(s.streamId, () => this.goLive(s))
        .catch((err: unknown) => {
          this.deps.log.error(
            { err, streamId: s.streamId },
            'could not announce StreamWentLive; closing the publisher',
          );
          this.deps.disconnect(s.sessionId);
        }),
    );
  }

  /** The publisher announced it is stopping (FCUnpublish or deleteStream): no reconnect follows. */
  onUnpublish(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (s) s.unpublished = true;
  }

  onClose(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.closed = true;
    this.sessions.delete(sessionId);
    for (const g of SOURCE_GAUGES) this.m.source[g].remove({ stream: s.streamId });
    if (this.byStream.get(s.streamId) === sessionId) this.byStream.delete(s.streamId);
    this.m.publishers.set(this.byStream.size);
    this.deps.streamGone(s.streamId);
    const grace =
      s.wentLive && s.ending === null && !s.unpublished && !this.shuttingDown && this.deps.reconnectGraceMs > 0;
    this.deps.log.info(
      {
        sessionId,
        streamId: s.streamId,
        unpublished: s.unpublished,
        ...(grace && { graceMs: this.deps.reconnectGraceMs }),
      },
      grace ? 'publisher vanished; holding the stream live for its reconnect' : 'publisher disconnected',
    );
    if (!grace) return this.end(s, 'PUBLISHER_DISCONNECTED');
    this.orphaned.set(s.streamId, { session: s, until: this.now() + this.deps.reconnectGraceMs });
    this.m.orphaned.set(this.orphaned.size);
  }

  /** Shutdown: publishers cut from here on end their streams at once, as nobody here waits for them. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const { session } of this.orphaned.values()) this.end(session, 'PUBLISHER_DISCONNECTED');
    this.orphaned.clear();
    this.m.orphaned.set(0);
  }

  /**
   * Every lifecycle event the registry applies. Another ingest node announcing one of our streams
   * means the streamer's encoder now publishes there: the newest publisher wins, so ours is cut
   * (or our wait for its reconnect dropped) without ending the broadcast.
   */
  onLifecycle(event: StreamLifecycleEvent): void {
    const p = event.payload;
    if (p.type === 'StreamWentLive') this.liveOn.set(event.streamId, p.ingestNode);
    else if (p.type === 'StreamEnded') this.liveOn.delete(event.streamId);
    if (p.type !== 'StreamWentLive' || p.ingestNode === this.deps.ingestNode) return;
    if (this.orphaned.delete(event.streamId)) {
      this.m.orphaned.set(this.orphaned.size);
      this.deps.log.info({ streamId: event.streamId, by: p.ingestNode }, 'publisher reconnected elsewhere');
    }
    const s = this.sessions.get(this.byStream.get(event.streamId) ?? '');
    if (s && s.ending === null) {
      this.deps.log.warn(
        { streamId: event.streamId, by: p.ingestNode },
        'stream taken over elsewhere; closing our publisher',
      );
      s.ending = 'UNKNOWN';
      this.deps.disconnect(s.sessionId);
    }
  }

  /**
   * Once the registry has caught up at start: live streams the topic says this node holds, with
   * no publisher here, were held by this node before it died. Their encoders get the reconnect
   * grace to come back (here or elsewhere), as after a dropped connection; then they end.
   */
  adoptOrphans(): string[] {
    const until = this.now() + this.deps.reconnectGraceMs;
    const adopted: string[] = [];
    for (const [streamId, node] of this.liveOn) {
      if (node !== this.deps.ingestNode || this.byStream.has(streamId) || this.orphaned.has(streamId)) continue;
      if (this.deps.streamStatus(streamId) !== 'live') continue;
      const session: Session = {
        sessionId: `before-restart:${streamId}`,
        streamId,
        acceptedAt: 0,
        firstMediaAt: null,
        lastMediaAt: 0,
        declaredFrameRate: null,
        meter: new SourceMeter(0),
        wentLive: true,
        closed: true,
        unpublished: false,
        resumes: null,
        ending: null,
      };
      this.orphaned.set(streamId, { session, until });
      adopted.push(streamId);
    }
    this.m.orphaned.set(this.orphaned.size);
    if (adopted.length)
      this.deps.log.warn(
        { streams: adopted, graceMs: this.deps.reconnectGraceMs },
        'live streams left by this node before it restarted; waiting for their encoders',
      );
    return adopted;
  }

  /** Periodic: cut stalled publishers and those whose stream was ended elsewhere. */
  sweep(): void {
    const now = this.now();
    if (now - this.lastSourceReading >= SOURCE_READING_MS) {
      this.lastSourceReading = now;
      for (const s of this.sessions.values()) {
        const r = s.wentLive ? s.meter.read(now) : null;
        if (!r) continue;
        const stream = { stream: s.streamId };
        this.m.source.bits.set(stream, r.bitsPerSecond);
        this.m.source.fps.set(stream, r.framesPerSecond);
        if (r.keyframeIntervalS !== null) this.m.source.keyframe.set(stream, r.keyframeIntervalS);
      }
    }
    for (const [streamId, { session, until }] of this.orphaned) {
      if (now < until) continue;
      this.orphaned.delete(streamId);
      this.deps.log.info({ streamId }, 'publisher did not come back');
      this.end(session, 'PUBLISHER_DISCONNECTED');
    }
    this.m.orphaned.set(this.orphaned.size);
    for (const s of this.sessions.values()) {
      if (this.deps.streamStatus(s.streamId) === 'ended' && s.wentLive && s.ending === null) {
        this.deps.log.info({ streamId: s.streamId }, 'stream ended elsewhere; closing its publisher');
        s.ending = 'UNKNOWN';
        this.deps.disconnect(s.sessionId);
      } else if (now - s.lastMediaAt > this.deps.mediaTimeoutMs && s.ending === null) {
        this.deps.log.warn(
          { streamId: s.streamId, silentMs: now - s.lastMediaAt },
          'publisher sent no media; cutting it off',
        );
        this.end(s, 'INGEST_TIMEOUT');
        this.deps.disconnect(s.sessionId);
      }
    }
  }

  /** Resolves once every event decided so far is published (shutdown: after the sockets closed). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async goLive(s: Session): Promise<void> {
    const sourceUrl = this.deps.pullUrl(s.streamId);
    let source: ProbedSource = { width: null, height: null, frameRate: null, videoCodec: null, audioCodec: null };
    try {
      source = await this.deps.probe(sourceUrl);
    } catch (err) {
      // Still live: the worker probes for itself when the event carries no source details.
      this.deps.log.warn({ err, streamId: s.streamId }, 'source probe failed');
    }
    if (s.declaredFrameRate !== null && source.videoCodec !== null) source.frameRate = s.declaredFrameRate;
    if (s.closed || s.ending !== null) return;
    await this.deps.publish([
      {
        eventId: randomUUID(),
        occurredAt: this.now(),
        streamId: s.streamId,
        payload: {
          type: 'StreamWentLive',
          startedAt: broadcastStart(s)!,
          sourceUrl,
          ingestNode: this.deps.ingestNode,
          ...source,
        },
      },
    ]);
    s.wentLive = true;
    this.m.live.inc();
    if (s.resumes !== null) this.m.resumed.inc();
    this.deps.log.info({ streamId: s.streamId, sourceUrl, ...source }, 'stream went live');
  }

  private end(s: Session, reason: EndReason): void {
    if (s.ending !== null && reason === 'PUBLISHER_DISCONNECTED') return;
    s.ending ??= reason;
    const why = s.ending;
    const done = this.lock
      .run(s.streamId, async () => {
        if (!s.wentLive || why === 'UNKNOWN') return;
        if (this.deps.streamStatus(s.streamId) === 'ended') return;
        await this.deps.publish([
          {
            eventId: randomUUID(),
            occurredAt: this.now(),
            streamId: s.streamId,
            payload: { type: 'StreamEnded', reason: why, endedBy: null },
          },
        ]);
        this.m.ended.inc({ reason: why });
        this.deps.log.info({ streamId: s.streamId, reason: why }, 'stream ended');
      })
      .catch((err: unknown) => this.deps.log.error({ err, streamId: s.streamId }, 'could not announce StreamEnded'));
    this.track(done);
  }
}

/** When the broadcast a session carries began: its own first media, unless it carries one on. */
const broadcastStart = (s: Session): number | null => s.resumes ?? s.firstMediaAt;
