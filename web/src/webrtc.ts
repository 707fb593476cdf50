import { gatewayError, preferH264, sessionUrl } from './lib/webrtc.ts';

/**
 * WHIP and WHEP with the browser's RTCPeerConnection (gateways/webrtc/http.ts is the other end).
 * The gateway does not take trickled candidates, so the offer goes out once ICE has gathered.
 */
export class WebRtcRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A WHIP or WHEP session: its connection and the URL that ends it. */
export interface Session {
  pc: RTCPeerConnection;
  /** Sends the DELETE (once) and closes the connection. */
  end(): void;
}

/** Host candidates on the gateway's network gather in milliseconds; a STUN server that never answers must not stall the offer. */
const GATHER_LIMIT_MS = 3000;

/** The gateway answers once its own candidates are gathered: seconds at most, unless it is gone. */
const OFFER_LIMIT_MS = 10_000;

function gathered(pc: RTCPeerConnection): Promise<void> {
  return new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    pc.addEventListener('icegatheringstatechange', check);
    setTimeout(done, GATHER_LIMIT_MS);
  });
}

async function negotiate(pc: RTCPeerConnection, endpoint: string, headers: Record<string, string>): Promise<Session> {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', ...headers },
    body: pc.localDescription!.sdp,
    signal: AbortSignal.timeout(OFFER_LIMIT_MS),
  });
  const body = await res.text();
  if (res.status !== 201) {
    const e = gatewayError(res.status, body);
    throw new WebRtcRefused(res.status, e.code, e.message);
  }
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  const location = res.headers.get('location');
  const url = location ? sessionUrl(endpoint, location) : null;
  let ended = false;
  return {
    pc,
    end: () => {
      if (ended) return;
      ended = true;
      pc.close();
      // keepalive: the DELETE still goes out when it is sent as the page unloads.
      if (url) void fetch(url, { method: 'DELETE', keepalive: true }).catch(() => undefined);
    },
  };
}

/** WHIP: broadcasts `media` (camera and microphone) with the stream key as the bearer token. */
export async function publish(media: MediaStream, whipUrl: string, streamKey: string): Promise<Session> {
  const pc = new RTCPeerConnection();
  try {
    for (const track of media.getTracks()) {
      const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
      if (track.kind === 'video') {
        const codecs = preferH264(RTCRtpSender.getCapabilities('video')?.codecs ?? []);
        if (!codecs) throw new Error('this browser cannot send H.264 video, which the WebRTC ingest needs');
        t.setCodecPreferences(codecs);
      }
    }
    return await negotiate(pc, whipUrl, { authorization: `Bearer ${streamKey}` });
  } catch (err) {
    pc.close();
    throw err;
  }
}

/** WHEP: receives a live stream's video and audio; `onStream` gets them for a <video>'s srcObject. */
export async function play(whepUrl: string, onStream: (s: MediaStream) => void): Promise<Session> {
  const pc = new RTCPeerConnection();
  const stream = new MediaStream();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addEventListener('track', (e) => {
    stream.addTrack(e.track);
    onStream(stream);
  });
  try {
    return await negotiate(pc, whepUrl, {});
  } catch (err) {
    pc.close();
    throw err;
  }
}
