import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOffer, keepCandidates } from './sdp.ts';

/** A browser's publishing offer, cut to what matters (Chromium 156's shape). */
const media = (kind: 'audio' | 'video', mid: number, direction: string, rtp: string[]): string[] => [
  `m=${kind} 9 UDP/TLS/RTP/SAVPF ${rtp.map((r) => r.split(' ')[0]).join(' ')}`,
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdef012345',
  'a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
  'a=setup:actpass',
  `a=mid:${mid}`,
  `a=${direction}`,
  'a=rtcp-mux',
  ...rtp.flatMap((r) => {
    const [pt, codec, fmtp] = r.split(' ');
    return [`a=rtpmap:${pt} ${codec}`, ...(fmtp ? [`a=fmtp:${pt} ${fmtp}`] : [])];
  }),
];
const H264 = '102 H264/90000 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f';
const H264_MODE0 = '103 H264/90000 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f';
const VP8 = '96 VP8/90000';
const OPUS = '111 opus/48000/2 minptime=10;useinbandfec=1';
const offer = (...sections: string[][]): string =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', ...sections.flat(), ''].join('\r\n');

describe('checkOffer', () => {
  it('takes a publisher sending H.264 and Opus, and a viewer receiving them', () => {
    assert.deepEqual(
      checkOffer(offer(media('audio', 0, 'sendonly', [OPUS]), media('video', 1, 'sendonly', [VP8, H264])), 'publish'),
      { ok: true, video: true, audio: true },
    );
    assert.deepEqual(
      checkOffer(offer(media('audio', 0, 'recvonly', [OPUS]), media('video', 1, 'recvonly', [H264])), 'play'),
      { ok: true, video: true, audio: true },
    );
    assert.deepEqual(checkOffer(offer(media('video', 0, 'sendrecv', [H264])), 'publish'), {
      ok: true,
      video: true,
      audio: false,
    });
  });

  it('refuses what is not SDP, or lacks ICE credentials, a fingerprint or a mid', () => {
    const problem = (sdp: string) => {
      const c = checkOffer(sdp, 'publish');
      return c.ok ? 'ok' : c.problem;
    };
    assert.equal(problem('hello'), 'malformed_sdp');
    assert.equal(problem('v=0\r\n'), 'malformed_sdp');
    const good = offer(media('video', 0, 'sendonly', [H264]));
    assert.equal(problem(good.replace(/a=ice-ufrag:.*\r\n/, '')), 'malformed_sdp');
    assert.equal(problem(good.replace(/a=fingerprint:.*\r\n/, '')), 'malformed_sdp');
    assert.equal(problem(good.replace(/a=mid:.*\r\n/, '')), 'malformed_sdp');
  });

  it('refuses video without H.264 in packetization mode 1, and audio without Opus', () => {
    const c1 = checkOffer(offer(media('video', 0, 'sendonly', [VP8, H264_MODE0])), 'publish');
    assert.equal(c1.ok ? 'ok' : c1.problem, 'unsupported_codecs');
    const c2 = checkOffer(
      offer(media('audio', 0, 'sendonly', ['0 PCMU/8000']), media('video', 1, 'sendonly', [H264])),
      'publish',
    );
    assert.equal(c2.ok ? 'ok' : c2.problem, 'unsupported_codecs');
    assert.match(c2.ok ? '' : c2.detail, /Opus/);
  });

  it('refuses an offer flowing the wrong way for its role', () => {
    const c1 = checkOffer(offer(media('video', 0, 'recvonly', [H264])), 'publish');
    assert.equal(c1.ok ? 'ok' : c1.problem, 'wrong_direction');
    const c2 = checkOffer(offer(media('video', 0, 'sendonly', [H264])), 'play');
    assert.equal(c2.ok ? 'ok' : c2.problem, 'wrong_direction');
  });
});

describe('keepCandidates', () => {
  it('keeps only the candidates on the configured addresses', () => {
    const sdp = [
      'v=0',
      'a=candidate:1 1 udp 2116026367 192.0.2.2 34706 typ host generation 0',
      'a=candidate:2 1 udp 2116026367 127.0.0.1 34707 typ host generation 0',
      'a=candidate:3 1 udp 2116026367 203.0.113.9 34707 typ host generation 0',
      'a=end-of-candidates',
      '',
    ].join('\r\n');
    const kept = keepCandidates(sdp, ['127.0.0.1', '203.0.113.9']);
    assert.doesNotMatch(kept, /192\.0\.2\.2/);
    assert.match(kept, /127\.0\.0\.1 34707/);
    assert.match(kept, /203\.0\.113\.9/);
    assert.match(kept, /a=end-of-candidates/);
  });
});
