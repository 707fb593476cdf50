import { randomUUID } from 'node:crypto';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { ProbedSource } from '../../platform/ffmpeg.ts';
import type { Logger } from '../../platform/logger.ts';
import { ConnectionCounter } from '../../platform/http/limits.ts';
import { checkStreamKey } from '../../domain/stream/key-check.ts';
import type { StreamRecord } from '../../domain/stream/evolve.ts';
import { WebRtcError } from './errors.ts';
import type { WebRtcMetrics } from './metrics.ts';
import { answer, newPeer, type IceSettings } from './peer.ts';
import { WhipPublisher } from './publisher.ts';
import { Room } from './room.ts';
import { RtmpSource } from './rtmp-source.ts';
import { checkOffer, type OfferRole } from './sdp.ts';
import { WhepViewer } from './viewer.ts';

export interface GatewayDeps {
  lookupByKeyHash: (hash: string) => StreamRecord | undefined;
  stream: (streamId: string) => StreamRecord | undefined;
  probe: (url: string) => Promise<ProbedSource>;
  ice: IceSettings;
  ingestRtmpUrl: string;
  ingestPullUrl: string;
  maxPublishers: number;
  maxViewers: number;
  maxViewersPerStream: number;
  sessionsPerAddress: number;
  connectTimeoutMs: number;
  keyframeIntervalMs: number;
  bridgeLingerMs: number;
  log: Logger;
  metrics: WebRtcMetrics;
}

/** A viewer that sends no receiver report for this long has closed its tab. */
const VIEWER_SILENCE_MS = 10_000;
/** A publisher that sends no media for this long has vanished. */
const PUBLISHER_MEDIA_TIMEOUT_MS = 5_000;

/**
 * The WebRTC gateway's sessions: WHIP publishers, WHEP viewers and the room (SFU) of each stream
 * that has either. Refusals are WebRtcErrors, answered by the HTTP layer from one table.
 *
 * WHEP plays a stream in ultra-low mode: from its WHIP publisher when it has one here, else from
 * an RTMP bridge started for its first viewer. The ultra-low tier is served here, at the origin,
 * as the seed has it: no CDN cache sits between a viewer and the source.
 */
export class WebRtcGateway {
  private readonly rooms = new Map<string, Room>();
  private readonly publishers = new Map<string, WhipPublisher>();
  private readonly publisherByStream = new Map<string, string>();
  private readonly viewers = new Map<string, WhepViewer>();
  private readonly bridgesStarting = new Map<string, Promise<void>>();
  private readonly perAddress: ConnectionCounter;
  private sweeper: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly d: GatewayDeps) {
    this.perAddress = new ConnectionCounter(d.sessionsPerAddress);
  }

  start(): void {
    this.sweeper = setInterval(() => void this.sweep(), 1000);
  }

  /** WHIP: the stream key is the bearer token; the answer and the session's id come back. */
  async publish(key: string | null, offer: string, address: string): Promise<{ sessionId: string; answer: string }> {
    if (this.stopping) throw new WebRtcError('unavailable', 'the gateway is shutting down');
    if (!key) throw this.refusal('publish', new WebRtcError('missing_key', 'send the stream key as a bearer token'));
    const k = checkStreamKey(key, this.d.lookupByKeyHash, (id) => this.publisherByStream.has(id));
    if (!k.ok) throw this.refusal('publish', new WebRtcError(k.reason, keyMessage(k.reason)));
    const check = this.checkOffer(offer, 'publish');
    const streamId = k.stream.streamId;
    if (this.publishers.size >= this.d.maxPublishers)
      throw this.refusal(
        'publish',
        new WebRtcError('too_many_publishers', 'this gateway takes no more publishers now'),
      );
    this.acquire('publish', address);
    const sessionId = randomUUID();
    const pc = newPeer(this.d.ice);
    const room = this.room(streamId);
    room.source?.close('a WHIP publisher took the stream over');
    const pub = new WhipPublisher(sessionId, streamId, pc, room, {
      rtmpUrl: `${this.d.ingestRtmpUrl}/${key}`,
      audio: check.audio,
      keyframeIntervalMs: this.d.keyframeIntervalMs,
      mediaTimeoutMs: PUBLISHER_MEDIA_TIMEOUT_MS,
      connectTimeoutMs: this.d.connectTimeoutMs,
      log: this.d.log,
      onEnd: (how, detail) => {
        this.perAddress.release(address);
        this.publishers.delete(sessionId);
        if (this.publisherByStream.get(streamId) === sessionId) this.publisherByStream.delete(streamId);
        if (room.source === pub) room.source = null;
        this.d.metrics.publishers.set(this.publishers.size);
        this.d.metrics.forget(streamId);
        this.d.metrics.sessionsEnded.inc({ role: 'publish', how });
        if (how === 'ice_failed') this.d.metrics.iceFailures.inc({ role: 'publish' });
        this.d.log.info({ sessionId, streamId, how, detail }, 'whip publisher ended');
        // Viewers of a broadcast that ended wait for nothing: they are told at once.
        if (how !== 'ice_failed' && how !== 'media_timeout') this.closeRoomViewers(streamId, 'the broadcast ended');
      },
    });
    room.source = pub;
    this.publishers.set(sessionId, pub);
    this.publisherByStream.set(streamId, sessionId);
    this.d.metrics.publishers.set(this.publishers.size);
    try {
      const sdp = await answer(pc, offer, this.d.ice);
      this.d.metrics.sessionsStarted.inc({ role: 'publish' });
      this.d.log.info({ sessionId, streamId, audio: check.audio }, 'whip publisher connected');
      return { sessionId, answer: sdp };
    } catch (err) {
      void pub.stop('ice_failed');
      throw this.refusal(
        'publish',
        new WebRtcError('malformed_sdp', `the offer could not be applied: ${(err as Error).message}`),
      );
    }
  }

  async unpublish(sessionId: string): Promise<void> {
    const pub = this.publishers.get(sessionId);
    if (!pub) throw new WebRtcError('unknown_session', 'no such WHIP session (it may have ended already)');
    await pub.stop('deleted');
  }

  /** WHEP: a viewer's offer for a live ultra-low stream; the answer and the session's id come back. */
  async play(
    streamId: string,
    offer: string,
    address: string,
    playbackSession: string | null = null,
  ): Promise<{ sessionId: string; answer: string }> {
    if (this.stopping) throw new WebRtcError('unavailable', 'the gateway is shutting down');
    this.checkOffer(offer, 'play');
    const stream = this.d.stream(streamId);
    // A WHIP publisher held here plays at once: waiting for StreamWentLive would add the
    // ingest's probe of the bridge (seconds) to every viewer's first picture at the start.
    const published = this.publisherByStream.has(streamId);
    if (!stream || (stream.status !== 'live' && !published))
      throw this.refusal('play', new WebRtcError('not_live', 'the stream is not live'));
    if (stream.latencyMode !== 'ULTRA_LOW' && !published)
      throw this.refusal(
        'play',
        new WebRtcError(
          'not_webrtc',
          'this stream plays over HLS: WebRTC playback is for streams in ultra-low latency mode',
        ),
      );
    const room = this.room(streamId);
    if (this.viewers.size >= this.d.maxViewers || room.viewers.size >= this.d.maxViewersPerStream)
      throw this.refusal(
        'play',
        new WebRtcError('too_many_viewers', 'no room for another WebRTC viewer; play over HLS or try again'),
      );
    this.acquire('play', address);
    try {
      if (!room.source) await this.startRtmpBridge(room);
    } catch (err) {
      this.perAddress.release(address);
      throw err;
    }
    const sessionId = randomUUID();
    const pc = newPeer(this.d.ice);
    const viewer = new WhepViewer(
      sessionId,
      streamId,
      pc,
      {
        onGone: (reason) => {
          if (!this.viewers.delete(sessionId)) return;
          this.perAddress.release(address);
          room.remove(sessionId);
          this.d.metrics.viewers.set(this.viewers.size);
          this.d.metrics.sessionsEnded.inc({ role: 'play', how: reason });
          if (reason === 'ice_failed') this.d.metrics.iceFailures.inc({ role: 'play' });
          this.d.log.info({ sessionId, streamId, reason, sent: viewer.sentPackets }, 'whep viewer left');
        },
        onKeyframeWanted: () => room.askKeyframe(),
      },
      playbackSession,
    );
    this.viewers.set(sessionId, viewer);
    this.d.metrics.viewers.set(this.viewers.size);
    try {
      const sdp = await answer(pc, offer, this.d.ice);
      room.add(viewer);
      this.d.metrics.sessionsStarted.inc({ role: 'play' });
      this.d.log.info({ sessionId, streamId, source: room.source?.kind }, 'whep viewer joined');
      return { sessionId, answer: sdp };
    } catch (err) {
      viewer.close('bad_offer');
      throw this.refusal(
        'play',
        new WebRtcError('malformed_sdp', `the offer could not be applied: ${(err as Error).message}`),
      );
    }
  }

  /**
   * Media each WHEP viewer with a player session received since the last call, for its playback
   * events: packets sent while the browser still answers with RTCP (a tab gone quiet is not
   * watching, even before it is dropped as silent).
   */
  takeDeliveries(now: number): Array<{ streamId: string; sessionId: string; packets: number; bytes: number }> {
    const out = [];
    for (const v of this.viewers.values()) {
      const d = v.takeDelivered();
      if (v.playbackSession === null || d.packets === 0 || v.silentFor(now) > VIEWER_SILENCE_MS) continue;
      out.push({ streamId: v.streamId, sessionId: v.playbackSession, ...d });
    }
    return out;
  }

  stopViewer(sessionId: string): void {
    const v = this.viewers.get(sessionId);
    if (!v) throw new WebRtcError('unknown_session', 'no such WHEP session (it may have ended already)');
    v.close('deleted');
  }

  /** A broadcast ended elsewhere (the API, the ingest): its viewers and bridge go now. */
  onLifecycle(event: StreamLifecycleEvent): void {
    if (event.payload.type !== 'StreamEnded') return;
    const room = this.rooms.get(event.streamId);
    if (!room) return;
    room.close('the broadcast ended');
    this.rooms.delete(event.streamId);
  }

  get healthy(): boolean {
    return !this.stopping;
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    // Publishers' bridges are killed, not stopped: their broadcasts wait out the ingest's grace
    // for the gateway's replacement instead of ending.
    for (const room of this.rooms.values()) room.close('the gateway is shutting down');
    this.rooms.clear();
  }

  private room(streamId: string): Room {
    let room = this.rooms.get(streamId);
    if (!room) {
      room = new Room(streamId, 500);
      this.rooms.set(streamId, room);
    }
    return room;
  }

  private closeRoomViewers(streamId: string, reason: string): void {
    const room = this.rooms.get(streamId);
    if (!room) return;
    for (const v of [...room.viewers.values()]) v.close(reason);
  }

  private async startRtmpBridge(room: Room): Promise<void> {
    let starting = this.bridgesStarting.get(room.streamId);
    if (!starting) {
      starting = RtmpSource.start(room, {
        url: `${this.d.ingestPullUrl}/${room.streamId}`,
        probe: this.d.probe,
        log: this.d.log,
        onExit: (detail) => {
          this.d.log.warn({ streamId: room.streamId, ffmpeg: detail }, 'rtmp bridge exited');
          this.d.metrics.bridges.set(this.countBridges());
          this.closeRoomViewers(room.streamId, 'the broadcast ended');
        },
      })
        .then((src) => {
          room.source = src;
          this.d.metrics.bridges.set(this.countBridges());
        })
        .finally(() => this.bridgesStarting.delete(room.streamId));
      this.bridgesStarting.set(room.streamId, starting);
    }
    try {
      await starting;
    } catch (err) {
      this.d.log.warn({ err, streamId: room.streamId }, 'rtmp bridge could not start');
      throw new WebRtcError('unavailable', 'the broadcast cannot be played over WebRTC right now; play over HLS');
    }
  }

  private countBridges(): number {
    return [...this.rooms.values()].filter((r) => r.source?.kind === 'rtmp').length;
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const v of this.viewers.values()) if (v.silentFor(now) > VIEWER_SILENCE_MS) v.close('silent');
    for (const [id, room] of this.rooms) {
      const idle = room.emptySince !== null && now - room.emptySince > this.d.bridgeLingerMs;
      if (idle && room.source?.kind === 'rtmp') {
        room.close('no viewers');
        this.d.metrics.bridges.set(this.countBridges());
      }
      if (idle && !room.source) this.rooms.delete(id);
    }
    for (const pub of this.publishers.values()) {
      const s = await pub.stats().catch(() => ({}) as Awaited<ReturnType<WhipPublisher['stats']>>);
      for (const [kind, v] of Object.entries(s)) {
        this.d.metrics.packetsLost.set({ stream: pub.streamId, kind }, v.packetsLost);
        this.d.metrics.jitter.set({ stream: pub.streamId, kind }, v.jitterS);
      }
    }
  }

  /** One more session for `address`, or a 429: one address cannot hold the gateway's capacity. */
  private acquire(role: OfferRole, address: string): void {
    if (!this.perAddress.tryAcquire(address))
      throw this.refusal(
        role,
        new WebRtcError('too_many_sessions', `this address holds ${this.d.sessionsPerAddress} WebRTC sessions already`),
      );
  }

  private checkOffer(offer: string, role: OfferRole): { audio: boolean } {
    const c = checkOffer(offer, role);
    if (!c.ok) throw this.refusal(role, new WebRtcError(c.problem, c.detail));
    return c;
  }

  private refusal(role: OfferRole, err: WebRtcError): WebRtcError {
    this.d.metrics.refused.inc({ role, reason: err.code });
    this.d.log.warn({ role, reason: err.code, detail: err.message }, 'webrtc request refused');
    return err;
  }
}

function keyMessage(reason: string): string {
  switch (reason) {
    case 'stream_ended':
      return 'this stream has ended: start a new one for a new broadcast';
    case 'already_publishing':
      return 'this stream already has a publisher';
    default:
      return 'unknown stream key';
  }
}
