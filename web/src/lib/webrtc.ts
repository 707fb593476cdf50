/**
 * Pure parts of the page's WebRTC (WHIP broadcast, WHEP playback): which path a player takes,
 * what the gateway's refusals and the browser's camera errors say to a person, and the
 * connection's health from `RTCPeerConnection.getStats()`.
 */

/** How the player plays a stream: WHEP when the API offers it (live, ultra-low), else hls.js. */
export type PlaybackPath = 'webrtc' | 'hls' | 'none';

export function playbackPath(p: {
  status: 'live' | 'ready' | 'ended';
  playback_urls: { hls: string | null; webrtc?: string | null };
}): PlaybackPath {
  if (p.status === 'live' && p.playback_urls.webrtc) return 'webrtc';
  return p.status !== 'ready' && p.playback_urls.hls ? 'hls' : 'none';
}

/** Why WHEP playback gave way to LL-HLS. */
export type WhepFailure =
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'connection' }
  | { kind: 'no-frames'; afterMs: number }
  | { kind: 'error'; message: string };

export function fallbackMessage(f: WhepFailure): string {
  switch (f.kind) {
    case 'refused':
      return `WebRTC refused (${f.status}: ${f.message})`;
    case 'connection':
      return 'WebRTC could not connect';
    case 'no-frames':
      return `no WebRTC video within ${Math.round(f.afterMs / 1000)} s`;
    case 'error':
      return `WebRTC failed: ${f.message}`;
    default: {
      const _exhaustive: never = f;
      return _exhaustive;
    }
  }
}

/** The gateway's refusal, `{error: {code, message}}`; anything else is named by its HTTP status. */
export function gatewayError(status: number, body: string): { code: string; message: string } {
  try {
    const e = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (e && typeof e.message === 'string' && e.message) {
      return { code: typeof e.code === 'string' ? e.code : 'http_error', message: e.message };
    }
  } catch {
    // Not JSON (a proxy's error page): the status says what there is to say.
  }
  return { code: 'http_error', message: `HTTP ${status}` };
}

/** What a person reads when getUserMedia fails, by the DOMException's name. */
export function cameraErrorMessage(name: string, message: string): string {
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera and microphone access was denied. Allow it in the browser’s site settings, then try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera or microphone was found.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera or microphone is in use by another application.';
    default:
      return `Could not open the camera: ${message || name}`;
  }
}

/** What `setCodecPreferences` needs of a codec capability. */
export interface Codec {
  mimeType: string;
  sdpFmtpLine?: string | undefined;
}

/**
 * The gateway takes H.264 in packetization-mode 1 only, so the offer lists nothing else for video.
 * Null when the browser has no such H.264 (the gateway would refuse the offer).
 */
export function preferH264<C extends Codec>(codecs: readonly C[]): C[] | null {
  const h264 = codecs.filter(
    (c) => c.mimeType.toLowerCase() === 'video/h264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? ''),
  );
  return h264.length ? h264 : null;
}

/** A session's URL: the gateway answers with a Location relative to the endpoint it was posted to. */
export const sessionUrl = (endpoint: string, location: string): string => new URL(location, endpoint).toString();

/** The connection as the page names it. */
export type LinkState = 'connecting' | 'live' | 'failed' | 'closed';

/** RTCPeerConnection's connectionState. */
export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export function linkState(pc: PeerState): LinkState {
  switch (pc) {
    // ICE may find its way back from a disconnect; only a failure is final.
    case 'new':
    case 'connecting':
    case 'disconnected':
      return 'connecting';
    case 'connected':
      return 'live';
    case 'failed':
      return 'failed';
    case 'closed':
      return 'closed';
    default: {
      const _exhaustive: never = pc;
      return _exhaustive;
    }
  }
}

/** The fields of getStats() reports this module reads (one type for every report kind). */
export interface StatsReport {
  type: string;
  kind?: string;
  timestamp: number;
  bytesSent?: number;
  framesPerSecond?: number;
  packetsLost?: number;
  roundTripTime?: number;
}

/** What a sender's health is computed from the next second: the last video byte count and when. */
export interface SendSample {
  bytesSent: number;
  timestamp: number;
}

export interface SendHealth {
  /** Outgoing video, kbit/s, over the time since the previous sample (null on the first). */
  videoKbps: number | null;
  /** Frames per second the encoder sends. */
  fps: number | null;
  /** Packets the receiver reported lost, video and audio together. */
  packetsLost: number | null;
  /** Round-trip time to the receiver, ms (video's, else audio's). */
  rttMs: number | null;
  sample: SendSample | null;
}

/** A publisher's health from one getStats() and the sample taken a second before. */
export function sendHealth(reports: Iterable<StatsReport>, prev: SendSample | null): SendHealth {
  let video: StatsReport | undefined;
  let lost: number | null = null;
  let rtt: { kind?: string | undefined; ms: number } | null = null;
  for (const r of reports) {
    if (r.type === 'outbound-rtp' && r.kind === 'video') video = r;
    if (r.type === 'remote-inbound-rtp') {
      if (typeof r.packetsLost === 'number') lost = (lost ?? 0) + Math.max(0, r.packetsLost);
      if (typeof r.roundTripTime === 'number' && (rtt === null || r.kind === 'video'))
        rtt = { kind: r.kind, ms: r.roundTripTime * 1000 };
    }
  }
  const sample =
    video && typeof video.bytesSent === 'number' ? { bytesSent: video.bytesSent, timestamp: video.timestamp } : null;
  const elapsedMs = sample && prev ? sample.timestamp - prev.timestamp : 0;
  return {
    videoKbps:
      sample && prev && elapsedMs > 0 && sample.bytesSent >= prev.bytesSent
        ? Math.round(((sample.bytesSent - prev.bytesSent) * 8) / elapsedMs)
        : null,
    fps: typeof video?.framesPerSecond === 'number' ? Math.round(video.framesPerSecond) : null,
    packetsLost: lost,
    rttMs: rtt ? Math.round(rtt.ms) : null,
    sample,
  };
}

/** The broadcast's health line: "live · 1450 kbps · 30 fps · 0 lost · RTT 12 ms". */
export function healthLine(state: LinkState, h: Omit<SendHealth, 'sample'> | null): string {
  const parts: string[] = [state];
  if (h && state === 'live') {
    if (h.videoKbps !== null) parts.push(`${h.videoKbps} kbps`);
    if (h.fps !== null) parts.push(`${h.fps} fps`);
    if (h.packetsLost !== null) parts.push(`${h.packetsLost} lost`);
    if (h.rttMs !== null) parts.push(`RTT ${h.rttMs} ms`);
  }
  return parts.join(' · ');
}

/** The quality a WHEP viewer reports in heartbeats: the source, not a rendition of the ladder. */
export const WEBRTC_QUALITY = 'webrtc';
