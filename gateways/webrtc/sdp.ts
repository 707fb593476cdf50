import { parse, type MediaAttributes, type SessionDescription } from 'sdp-transform';

/**
 * Does an SDP offer say what the gateway can take? Pure: the HTTP layer answers 400 with the
 * reason before a peer connection is made, so a malformed or unusable offer costs nothing and
 * disturbs nothing.
 *
 * A WHIP (publish) offer must send H.264 in packetization mode 1, the one WebRTC viewers and the
 * RTMP bridge both carry without transcoding, and Opus if it sends audio. A WHEP (play) offer
 * must receive H.264 (and Opus for audio). Every media section needs ICE credentials and a DTLS
 * fingerprint, at session or media level.
 */
export type OfferRole = 'publish' | 'play';

export type OfferProblem = 'malformed_sdp' | 'unsupported_codecs' | 'wrong_direction';

export type OfferCheck =
  { ok: true; video: boolean; audio: boolean } | { ok: false; problem: OfferProblem; detail: string };

/** Above this an offer is refused unread: a browser's offer is a few kilobytes. */
export const MAX_SDP_BYTES = 32 * 1024;

type Media = SessionDescription['media'][number];

export function checkOffer(sdp: string, role: OfferRole): OfferCheck {
  if (!sdp.startsWith('v=0')) return bad('malformed_sdp', 'an SDP offer starts with v=0');
  let parsed: SessionDescription;
  try {
    parsed = parse(sdp);
  } catch (err) {
    return bad('malformed_sdp', `unreadable SDP: ${(err as Error).message}`);
  }
  const media = (parsed.media ?? []).filter((m) => m.type === 'audio' || m.type === 'video');
  if (media.length === 0) return bad('malformed_sdp', 'the offer has no audio or video section');
  for (const m of media) {
    if (!(m.iceUfrag ?? parsed.iceUfrag) || !(m.icePwd ?? parsed.icePwd))
      return bad('malformed_sdp', `the ${m.type} section has no ICE credentials (a=ice-ufrag, a=ice-pwd)`);
    if (!(m.fingerprint ?? parsed.fingerprint))
      return bad('malformed_sdp', `the ${m.type} section has no DTLS fingerprint (a=fingerprint)`);
    if (m.mid === undefined || m.mid === '') return bad('malformed_sdp', `the ${m.type} section has no a=mid`);
  }
  const wanted = role === 'publish' ? 'send' : 'recv';
  const video = media.filter((m) => m.type === 'video' && m.port !== 0 && flows(m, parsed, wanted));
  const audio = media.filter((m) => m.type === 'audio' && m.port !== 0 && flows(m, parsed, wanted));
  if (video.length === 0)
    return bad(
      'wrong_direction',
      role === 'publish'
        ? 'the offer sends no video (a WHIP offer sends)'
        : 'the offer receives no video (a WHEP offer receives)',
    );
  if (video.length > 1 || audio.length > 1) return bad('malformed_sdp', 'one video and at most one audio section');
  if (!video.some(hasH264))
    return bad(
      'unsupported_codecs',
      'the offer has no H.264 (packetization-mode=1) video; H.264 is what the platform carries',
    );
  if (audio.length > 0 && !audio.some((m) => hasCodec(m, 'opus')))
    return bad('unsupported_codecs', 'the offer has audio without Opus; Opus is what the platform carries');
  return { ok: true, video: true, audio: audio.length > 0 };
}

function flows(m: Media, session: SessionDescription, wanted: 'send' | 'recv'): boolean {
  const dir = (m.direction ??
    (session as { direction?: MediaAttributes['direction'] }).direction ??
    'sendrecv') as string;
  return dir === 'sendrecv' || dir === `${wanted}only`;
}

function hasCodec(m: Media, name: string): boolean {
  return m.rtp.some((r) => r.codec.toLowerCase() === name);
}

function hasH264(m: Media): boolean {
  return m.rtp.some(
    (r) =>
      r.codec.toLowerCase() === 'h264' &&
      (m.fmtp ?? []).some((f) => f.payload === r.payload && /(^|;)\s*packetization-mode=1\b/.test(f.config)),
  );
}

function bad(problem: OfferProblem, detail: string): OfferCheck {
  return { ok: false, problem, detail };
}

/**
 * The answer with only the candidates on `addresses`: werift offers a host candidate for every
 * interface, and a client must learn of none but the ones the server is configured for.
 */
export function keepCandidates(sdp: string, addresses: readonly string[]): string {
  const allowed = new Set(addresses);
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || allowed.has(line.split(' ')[4] ?? ''))
    .join('\r\n');
}
