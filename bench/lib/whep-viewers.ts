import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { gathered } from '../../gateways/webrtc/peer.ts';

/**
 * N WHEP viewers in one process, for bench/webrtc-viewers.ts: real WebRTC receivers (werift, on
 * Node 24 as the gateway runs) that each send a recvonly offer for video and audio, complete ICE
 * and DTLS with the gateway and receive its SRTP (decrypted, not decoded). Run as
 *
 *   node24 --import tsx bench/lib/whep-viewers.ts <whep url> <viewers> <seconds>
 *
 * It prints JSON lines: {"event":"measuring"} once every viewer has had a video packet, then
 * {"event":"result",...} with each viewer's packets and bytes over the next `seconds`, and ends
 * every session (WHEP DELETE) before it exits.
 */
const [url, nArg, secondsArg] = process.argv.slice(2);
const N = Number(nArg);
const SECONDS = Number(secondsArg);
if (!url || !(N > 0) || !(SECONDS > 0)) {
  console.error('usage: whep-viewers.ts <whep url> <viewers> <seconds>');
  process.exit(2);
}
const now = (): number => performance.timeOrigin + performance.now();
const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

interface Viewer {
  pc: RTCPeerConnection;
  location: string | null;
  postedAt: number;
  firstVideoAt: number | null;
  video: { packets: number; bytes: number };
  audio: { packets: number; bytes: number };
}

async function connect(): Promise<Viewer> {
  const pc = new RTCPeerConnection({
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
    iceUseIpv4: true,
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    bundlePolicy: 'max-bundle',
  });
  const v: Viewer = {
    pc,
    location: null,
    postedAt: 0,
    firstVideoAt: null,
    video: { packets: 0, bytes: 0 },
    audio: { packets: 0, bytes: 0 },
  };
  for (const kind of ['video', 'audio'] as const) {
    const t = pc.addTransceiver(kind, { direction: 'recvonly' });
    t.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) => {
        const c = v[kind];
        c.packets++;
        c.bytes += rtp.payload.length;
        if (kind === 'video') v.firstVideoAt ??= now();
      }),
    );
  }
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  v.postedAt = now();
  const res = await fetch(url!, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription!.sdp,
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${body}`);
  v.location = res.headers.get('location');
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return v;
}

const viewers: Viewer[] = [];
// In small batches: the gateway answers each offer as it comes, as it would a crowd arriving.
for (let i = 0; i < N; i += 5)
  viewers.push(...(await Promise.all(Array.from({ length: Math.min(5, N - i) }, () => connect()))));
const deadline = Date.now() + 60_000;
while (viewers.some((v) => v.firstVideoAt === null)) {
  if (Date.now() > deadline) {
    say({ event: 'error', error: `${viewers.filter((v) => v.firstVideoAt === null).length} viewers had no video` });
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
const snapshot = () => viewers.map((v) => ({ video: { ...v.video }, audio: { ...v.audio } }));
const before = snapshot();
const from = now();
say({ event: 'measuring', at: from });
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const after = snapshot();
const to = now();
const s = (to - from) / 1000;
say({
  event: 'result',
  seconds: s,
  viewers: after.map((a, i) => ({
    videoPps: (a.video.packets - before[i]!.video.packets) / s,
    videoKbps: ((a.video.bytes - before[i]!.video.bytes) * 8) / s / 1000,
    audioPps: (a.audio.packets - before[i]!.audio.packets) / s,
    firstVideoMs: viewers[i]!.firstVideoAt! - viewers[i]!.postedAt,
  })),
});
const base = new URL(url);
await Promise.all(
  viewers.map(async (v) => {
    if (v.location) await fetch(new URL(v.location, base), { method: 'DELETE' }).catch(() => undefined);
    await v.pc.close().catch(() => undefined);
  }),
);
process.exit(0);
