import type {
  HeartbeatKind,
  LatencyMode,
  ViewerCountChanged,
  ViewerHeartbeat,
} from '../../schemas/generated/events.ts';
import type { StreamStatus } from '../../domain/stream/evolve.ts';
import { ViewerError, type ViewerErrorCode } from './errors.ts';
import type { ViewerMetrics } from './metrics.ts';
import { SESSION_ID, encode, parseClientFrame } from './protocol.ts';

/**
 * The viewer gateway's service: everything between a player's socket and the heartbeat topic,
 * and the count pushes back, with no transport in it (the uWS adapter calls it; tests can too).
 *
 * Intake: only live streams admit players, and only while they are live; one socket is one
 * session; a heartbeat naming another session is refused; a connection's heartbeats are
 * forwarded at most once per `minBeatIntervalMs` (the rest are dropped and counted) and a
 * connection sending more than `flood.frames` frames in `flood.windowMs` is closed. Every
 * refusal is counted in metrics; none reaches the topic, so none can inflate a count.
 *
 * Pushes: the counts come from live.viewer.counts (through the stream registry); each stream
 * with local players gets `{"type":"viewers"}` when its count changes and every `pushEveryMs`.
 */
export interface ViewerConnection {
  readonly id: number;
  readonly streamId: string;
  readonly sessionId: string;
  readonly userId: string | null;
  send(frame: string): void;
  close(code: ViewerErrorCode): void;
}

export interface StreamView {
  status(streamId: string): StreamStatus | undefined;
  counts(streamId: string): ViewerCountChanged | undefined;
  /** The stream's latency tier, which labels the latency its players report. */
  latencyMode(streamId: string): LatencyMode | undefined;
}

export interface ViewerServiceDeps {
  streams: StreamView;
  /** Queues a heartbeat for the topic (batched by the caller); never blocks a socket. */
  publish: (hb: ViewerHeartbeat) => void;
  broadcast: (streamId: string, frame: string) => void;
  /** Every local connection of a stream, for closing them when it ends. */
  connectionsOf: (streamId: string) => Iterable<ViewerConnection>;
  newId: () => string;
  clock: () => number;
  gatewayId: string;
  metrics: ViewerMetrics;
}

export interface ViewerServiceConfig {
  heartbeatIntervalMs: number;
  minBeatIntervalMs: number;
  flood: { frames: number; windowMs: number };
  pushEveryMs: number;
}

interface PerConnection {
  lastBeatAt: number;
  floodSince: number;
  floodFrames: number;
}

interface Room {
  connections: number;
  lastPushed: number;
  lastPushAt: number;
}

export class ViewerService {
  private readonly perConn = new Map<number, PerConnection>();
  private readonly rooms = new Map<string, Room>();

  constructor(
    private readonly deps: ViewerServiceDeps,
    private readonly cfg: ViewerServiceConfig,
  ) {}

  /** Upgrade time: the stream must be live; a given session id must be well formed. Throws ViewerError. */
  admit(streamId: string, session: string | null, newSession: () => string): { streamId: string; sessionId: string } {
    const status = this.deps.streams.status(streamId);
    if (!status) throw new ViewerError('stream_not_found', 'no such stream');
    if (status !== 'live') throw new ViewerError('stream_not_live', `the stream is ${status}, not live`);
    if (session !== null && !SESSION_ID.test(session)) {
      throw new ViewerError('invalid_request', 'session must be 8-64 letters, digits, _ or -');
    }
    return { streamId, sessionId: session ?? newSession() };
  }

  join(conn: ViewerConnection): void {
    const now = this.deps.clock();
    this.perConn.set(conn.id, { lastBeatAt: Number.NEGATIVE_INFINITY, floodSince: now, floodFrames: 0 });
    const room = this.rooms.get(conn.streamId) ?? { connections: 0, lastPushed: -1, lastPushAt: 0 };
    room.connections++;
    this.rooms.set(conn.streamId, room);
    this.deps.metrics.connections.inc();
    this.emit(conn, 'CONNECT', null, 0, null);
    conn.send(
      encode.welcome(
        conn.sessionId,
        this.cfg.heartbeatIntervalMs,
        this.deps.streams.counts(conn.streamId)?.viewers ?? 0,
        now,
      ),
    );
  }

  /** `clean`: the player said goodbye (or broke the rules); a dropped socket ages out instead, in case it returns. */
  leave(conn: ViewerConnection, clean: boolean): void {
    if (!this.perConn.delete(conn.id)) return;
    const room = this.rooms.get(conn.streamId);
    if (room && --room.connections === 0) this.rooms.delete(conn.streamId);
    this.deps.metrics.connections.dec();
    if (clean && this.deps.streams.status(conn.streamId) === 'live') this.emit(conn, 'DISCONNECT', null, 0, null);
  }

  receive(conn: ViewerConnection, text: string): void {
    const state = this.perConn.get(conn.id);
    if (!state) return;
    const now = this.deps.clock();
    if (now - state.floodSince >= this.cfg.flood.windowMs) {
      state.floodSince = now;
      state.floodFrames = 0;
    }
    if (++state.floodFrames > this.cfg.flood.frames) return this.refuse(conn, 'flood');
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return this.refuse(conn, parsed.code, parsed.message);
    const { frame } = parsed;
    if (frame.sessionId !== undefined && frame.sessionId !== conn.sessionId) {
      return this.refuse(conn, 'unknown_session', 'this socket holds another session');
    }
    if (this.deps.streams.status(conn.streamId) !== 'live') return this.refuse(conn, 'stream_ended');
    if (now - state.lastBeatAt < this.cfg.minBeatIntervalMs) {
      // Dropped quietly: a reply per extra frame would make the flood our work.
      this.deps.metrics.refused.inc({ code: 'too_frequent' });
      return;
    }
    state.lastBeatAt = now;
    this.emit(conn, 'HEARTBEAT', frame.quality, frame.bufferingMs, frame.latencyMs);
    const tier = this.deps.streams.latencyMode(conn.streamId);
    if (frame.latencyMs !== null && tier) this.deps.metrics.latency.observe({ tier }, frame.latencyMs / 1000);
  }

  /** Pushes counts that changed (or are due again); ends the streams that ended. */
  tick(): void {
    const now = this.deps.clock();
    for (const [streamId, room] of this.rooms) {
      if (this.deps.streams.status(streamId) === 'ended') {
        this.deps.broadcast(streamId, encode.ended());
        for (const conn of [...this.deps.connectionsOf(streamId)]) conn.close('stream_ended');
        continue;
      }
      const c = this.deps.streams.counts(streamId);
      const count = c?.viewers ?? 0;
      if (count === room.lastPushed && now - room.lastPushAt < this.cfg.pushEveryMs) continue;
      room.lastPushed = count;
      room.lastPushAt = now;
      this.deps.broadcast(streamId, encode.viewers(count, c?.peakViewers ?? 0));
      this.deps.metrics.pushes.inc();
    }
  }

  private refuse(conn: ViewerConnection, code: ViewerErrorCode, message?: string): void {
    this.deps.metrics.refused.inc({ code });
    if (code === 'flood' || code === 'stream_ended') return conn.close(code);
    conn.send(encode.error(code, message ?? code));
  }

  private emit(
    conn: ViewerConnection,
    kind: HeartbeatKind,
    quality: string | null,
    bufferingMs: number,
    latencyMs: number | null,
  ): void {
    this.deps.metrics.heartbeats.inc({ kind });
    this.deps.publish({
      eventId: this.deps.newId(),
      occurredAt: this.deps.clock(),
      streamId: conn.streamId,
      sessionId: conn.sessionId,
      userId: conn.userId,
      kind,
      quality,
      bufferingMs,
      latencyMs,
      gatewayId: this.deps.gatewayId,
    });
  }
}
