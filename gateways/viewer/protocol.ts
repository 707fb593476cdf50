import { z } from 'zod';
import type { ViewerErrorCode } from './errors.ts';

/**
 * The viewer presence protocol: JSON text frames over `/streams/:id/viewers[?session=<id>]`.
 * The socket is the session: the gateway publishes CONNECT when it opens and DISCONNECT when the
 * player closes it; `?session=` lets a player that reconnects keep its session (and so is not
 * counted twice while the old one ages out).
 *
 * Client -> server, every `heartbeat_interval_ms` (10 s):
 *   {"type":"heartbeat", "session_id"?, "quality"?: "720p" | null, "buffering_ms"?: 0..,
 *    "latency_ms"?: 0.. | null}
 *   `session_id`, when present, must be the socket's; `buffering_ms` is the time spent buffering
 *   since the previous heartbeat (clamped to 0..60000). `latency_ms` is how far the frame on screen
 *   is behind the stream's capture clock (its program date time), measured by the player on the
 *   server's clock (the welcome's `server_time` corrects the player's): a value outside
 *   0..MAX_LATENCY_MS is taken as a broken clock and dropped. No other client time is read.
 *
 * Server -> client:
 *   {"type":"welcome", "session_id", "heartbeat_interval_ms", "viewers", "server_time"}   first frame
 *   {"type":"viewers", "count", "peak"}      on every change and every few seconds
 *   {"type":"ended"}                         the stream ended; the socket closes with 1000
 *   {"type":"error", "code", "message"}
 */
// The player names the same session on its media requests (?vsid=), which the edge reports.
export { SESSION_ID } from '../../domain/viewers/playback.ts';
export const MAX_BUFFERING_MS = 60_000;
export const MAX_LATENCY_MS = 600_000;

const heartbeat = z.object({
  type: z.literal('heartbeat'),
  session_id: z.string().max(64).optional(),
  // A rendition name such as 720p, 1080p60 or audio_only; anything else is refused.
  quality: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,16}$/)
    .nullish(),
  buffering_ms: z.number().finite().optional(),
  latency_ms: z.number().finite().nullish(),
});

export type HeartbeatFrame = {
  sessionId: string | undefined;
  quality: string | null;
  bufferingMs: number;
  latencyMs: number | null;
};

export type Parsed =
  | { ok: true; frame: HeartbeatFrame }
  | {
      ok: false;
      code: Extract<ViewerErrorCode, 'invalid_json' | 'invalid_frame' | 'unknown_frame_type'>;
      message: string;
    };

export function parseClientFrame(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'frames must be JSON text' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: 'invalid_frame', message: 'a frame is a JSON object with a "type"' };
  }
  const type = (raw as Record<string, unknown>).type;
  if (type !== 'heartbeat') return { ok: false, code: 'unknown_frame_type', message: `unknown frame type` };
  const parsed = heartbeat.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, code: 'invalid_frame', message: parsed.error.issues[0]?.message ?? 'invalid heartbeat' };
  }
  const f = parsed.data;
  return {
    ok: true,
    frame: {
      sessionId: f.session_id,
      quality: f.quality ?? null,
      bufferingMs: Math.round(Math.min(MAX_BUFFERING_MS, Math.max(0, f.buffering_ms ?? 0))),
      latencyMs:
        f.latency_ms === undefined || f.latency_ms === null || f.latency_ms < 0 || f.latency_ms > MAX_LATENCY_MS
          ? null
          : Math.round(f.latency_ms),
    },
  };
}

export const encode = {
  welcome: (sessionId: string, heartbeatIntervalMs: number, viewers: number, serverTime: number): string =>
    JSON.stringify({
      type: 'welcome',
      session_id: sessionId,
      heartbeat_interval_ms: heartbeatIntervalMs,
      viewers,
      server_time: serverTime,
    }),
  viewers: (count: number, peak: number): string => JSON.stringify({ type: 'viewers', count, peak }),
  ended: (): string => JSON.stringify({ type: 'ended' }),
  error: (code: ViewerErrorCode, message: string): string => JSON.stringify({ type: 'error', code, message }),
};
