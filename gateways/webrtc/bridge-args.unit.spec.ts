import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rtmpBridgeArgs, rtpInputSdp, whipBridgeArgs } from './bridge-args.ts';

const after = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('WHIP -> RTMP bridge', () => {
  it('describes the forwarded RTP for ffmpeg: H.264 and Opus on their ports', () => {
    const sdp = rtpInputSdp({ video: { port: 30000, payloadType: 96 }, audio: { port: 30002, payloadType: 111 } });
    assert.match(sdp, /^v=0\r\n/);
    assert.match(sdp, /\r\nm=video 30000 RTP\/AVP 96\r\na=rtpmap:96 H264\/90000\r\na=fmtp:96 packetization-mode=1\r\n/);
    assert.match(sdp, /\r\nm=audio 30002 RTP\/AVP 111\r\na=rtpmap:111 opus\/48000\/2\r\n/);
    assert.doesNotMatch(rtpInputSdp({ video: { port: 30000, payloadType: 96 }, audio: null }), /m=audio/);
  });

  it('copies the video, makes AAC of the Opus and publishes FLV to the ingest', () => {
    const args = whipBridgeArgs({ rtmpUrl: 'rtmp://127.0.0.1:1935/live/key', audio: true });
    assert.equal(after(args, '-f'), 'sdp');
    assert.equal(after(args, '-i'), 'pipe:0');
    assert.equal(after(args, '-protocol_whitelist'), 'pipe,udp,rtp');
    assert.equal(after(args, '-c:v'), 'copy');
    assert.equal(after(args, '-c:a'), 'aac');
    assert.deepEqual(args.slice(-3), ['-f', 'flv', 'rtmp://127.0.0.1:1935/live/key']);
    const silent = whipBridgeArgs({ rtmpUrl: 'rtmp://x/live/k', audio: false });
    assert.ok(!silent.includes('-c:a') && !silent.includes('0:a:0'));
  });
});

describe('RTMP -> RTP bridge', () => {
  const out = { videoPort: 40000, audioPort: 40002, videoBitrateKbps: 2500 };

  it('copies H.264 without B-frames with SPS/PPS in band, and sends Opus', () => {
    const args = rtmpBridgeArgs({ url: 'rtmp://i/live/s', copyVideo: true, audio: true, frameRate: 30 }, out);
    assert.equal(after(args, '-c:v'), 'copy');
    assert.equal(after(args, '-bsf:v'), 'h264_mp4toannexb');
    assert.equal(after(args, '-c:a'), 'libopus');
    assert.ok(args.includes('rtp://127.0.0.1:40000?pkt_size=1200'));
    assert.ok(args.includes('rtp://127.0.0.1:40002?pkt_size=1200'));
  });

  it('re-encodes a source with B-frames as zero-latency baseline, a keyframe a second', () => {
    const args = rtmpBridgeArgs({ url: 'rtmp://i/live/s', copyVideo: false, audio: false, frameRate: 25 }, out);
    assert.equal(after(args, '-c:v'), 'libx264');
    assert.equal(after(args, '-tune'), 'zerolatency');
    assert.equal(after(args, '-profile:v'), 'baseline');
    assert.equal(after(args, '-g'), '25');
    assert.equal(after(args, '-bf'), '0');
    assert.equal(after(args, '-b:v'), '2500k');
    assert.ok(!args.includes('libopus'), 'no audio output for a silent source');
  });
});
