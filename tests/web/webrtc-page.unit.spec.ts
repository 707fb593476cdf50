import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cameraErrorMessage,
  fallbackMessage,
  gatewayError,
  healthLine,
  linkState,
  playbackPath,
  preferH264,
  sendHealth,
  sessionUrl,
  type StatsReport,
} from '../../web/src/lib/webrtc.ts';

/** The web page's WebRTC logic (web/src/lib/webrtc.ts): the path a player takes, errors, health. */
describe('webrtc page logic', () => {
  it('plays WHEP only for a live stream the API offers it for, else HLS where there is one', () => {
    const urls = { hls: 'http://edge/hls/s/master.m3u8', webrtc: 'http://rtc/whep/s' };
    assert.equal(playbackPath({ status: 'live', playback_urls: urls }), 'webrtc');
    assert.equal(playbackPath({ status: 'live', playback_urls: { ...urls, webrtc: null } }), 'hls');
    assert.equal(playbackPath({ status: 'ended', playback_urls: urls }), 'hls');
    assert.equal(playbackPath({ status: 'ended', playback_urls: { hls: null, webrtc: null } }), 'none');
    assert.equal(playbackPath({ status: 'ready', playback_urls: urls }), 'none');
  });

  it('reads the gateway’s JSON refusal, and names anything else by its status', () => {
    const body = JSON.stringify({ error: { code: 'too_many_viewers', message: 'this stream has 200 viewers' } });
    assert.deepEqual(gatewayError(503, body), { code: 'too_many_viewers', message: 'this stream has 200 viewers' });
    assert.deepEqual(gatewayError(502, '<html>Bad Gateway</html>'), { code: 'http_error', message: 'HTTP 502' });
    assert.deepEqual(gatewayError(500, ''), { code: 'http_error', message: 'HTTP 500' });
    assert.deepEqual(gatewayError(500, 'null'), { code: 'http_error', message: 'HTTP 500' });
    assert.deepEqual(gatewayError(401, '{"error":{"message":"unknown key"}}'), {
      code: 'http_error',
      message: 'unknown key',
    });
  });

  it('says why playback left WebRTC', () => {
    assert.equal(
      fallbackMessage({ kind: 'refused', status: 503, message: 'too many viewers' }),
      'WebRTC refused (503: too many viewers)',
    );
    assert.equal(fallbackMessage({ kind: 'connection' }), 'WebRTC could not connect');
    assert.equal(fallbackMessage({ kind: 'no-frames', afterMs: 5000 }), 'no WebRTC video within 5 s');
    assert.equal(fallbackMessage({ kind: 'error', message: 'boom' }), 'WebRTC failed: boom');
  });

  it('explains camera errors by the DOMException’s name', () => {
    assert.match(cameraErrorMessage('NotAllowedError', 'Permission denied'), /denied/);
    assert.match(cameraErrorMessage('NotFoundError', ''), /No camera/);
    assert.match(cameraErrorMessage('NotReadableError', ''), /in use/);
    assert.equal(cameraErrorMessage('TypeError', 'bad constraints'), 'Could not open the camera: bad constraints');
  });

  it('offers H.264 in packetization-mode 1 and nothing else for video', () => {
    const codecs = [
      { mimeType: 'video/VP8' },
      { mimeType: 'video/rtx', sdpFmtpLine: 'apt=96' },
      { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f' },
      { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
      { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f' },
    ];
    assert.deepEqual(
      preferH264(codecs)?.map((c) => c.sdpFmtpLine),
      [codecs[3]!.sdpFmtpLine, codecs[4]!.sdpFmtpLine],
    );
    assert.equal(preferH264([{ mimeType: 'video/VP8' }]), null);
  });

  it('resolves the session URL against the endpoint the offer went to', () => {
    assert.equal(
      sessionUrl('http://127.0.0.1:8095/whep/abc', '/whep/sessions/0f0e'),
      'http://127.0.0.1:8095/whep/sessions/0f0e',
    );
    assert.equal(sessionUrl('https://a.test/whip', 'https://b.test/s/1'), 'https://b.test/s/1');
  });

  it('names the connection state as the page shows it', () => {
    assert.equal(linkState('new'), 'connecting');
    assert.equal(linkState('connecting'), 'connecting');
    assert.equal(linkState('disconnected'), 'connecting');
    assert.equal(linkState('connected'), 'live');
    assert.equal(linkState('failed'), 'failed');
    assert.equal(linkState('closed'), 'closed');
  });

  it('summarises a sender’s getStats: video bitrate between samples, fps, loss and round trip', () => {
    const at = (t: number, bytes: number): StatsReport[] => [
      { type: 'outbound-rtp', kind: 'audio', timestamp: t, bytesSent: 999_999 },
      { type: 'outbound-rtp', kind: 'video', timestamp: t, bytesSent: bytes, framesPerSecond: 29.7 },
      { type: 'remote-inbound-rtp', kind: 'audio', timestamp: t, packetsLost: 1, roundTripTime: 0.05 },
      { type: 'remote-inbound-rtp', kind: 'video', timestamp: t, packetsLost: 3, roundTripTime: 0.0123 },
      { type: 'candidate-pair', timestamp: t },
    ];
    const first = sendHealth(at(1000, 10_000), null);
    assert.deepEqual(first, {
      videoKbps: null,
      fps: 30,
      packetsLost: 4,
      rttMs: 12,
      sample: { bytesSent: 10_000, timestamp: 1000 },
    });
    // 250 000 bytes in 2 s: 1000 kbit/s.
    const next = sendHealth(at(3000, 260_000), first.sample);
    assert.equal(next.videoKbps, 1000);
    assert.equal(healthLine('live', next), 'live · 1000 kbps · 30 fps · 4 lost · RTT 12 ms');
  });

  it('shows what is known: nothing before the receiver reports, only the state when not live', () => {
    const early = sendHealth([{ type: 'outbound-rtp', kind: 'video', timestamp: 5, bytesSent: 0 }], null);
    assert.deepEqual(
      { ...early, sample: null },
      { videoKbps: null, fps: null, packetsLost: null, rttMs: null, sample: null },
    );
    assert.equal(healthLine('live', early), 'live');
    assert.equal(healthLine('connecting', early), 'connecting');
    assert.equal(healthLine('failed', null), 'failed');
    // A counter that went back (a new sender) is no bitrate.
    assert.equal(
      sendHealth([{ type: 'outbound-rtp', kind: 'video', timestamp: 2000, bytesSent: 5 }], {
        bytesSent: 50,
        timestamp: 1000,
      }).videoKbps,
      null,
    );
  });
});
