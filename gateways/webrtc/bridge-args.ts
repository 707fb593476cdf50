/**
 * The two ffmpeg bridges between WebRTC and the rest of the platform, as pure argument builders.
 *
 *   WHIP -> RTMP: the publisher's RTP (forwarded by the gateway to loopback UDP ports that an SDP
 *     on stdin describes) becomes an RTMP publish to the ingest with the stream's key, so a
 *     browser broadcast goes live, is probed, transcoded, recorded and ends exactly as an OBS
 *     one does. Video is copied (WebRTC H.264 has no B-frames); Opus becomes AAC for FLV.
 *   RTMP -> RTP: an RTMP broadcast in ultra-low mode, pulled from the ingest, becomes RTP on
 *     loopback for the gateway to forward to WHEP viewers: H.264 copied when the source has no
 *     B-frames (else a zero-latency baseline encode, one keyframe a second), audio as Opus.
 */
export interface RtpPort {
  port: number;
  payloadType: number;
}

export interface WhipInput {
  video: RtpPort;
  audio: RtpPort | null;
}

/** The SDP ffmpeg reads the publisher's forwarded RTP with (RTCP on port + 1). */
export function rtpInputSdp(input: WhipInput): string {
  const lines = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=whip',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=video ${input.video.port} RTP/AVP ${input.video.payloadType}`,
    `a=rtpmap:${input.video.payloadType} H264/90000`,
    `a=fmtp:${input.video.payloadType} packetization-mode=1`,
  ];
  if (input.audio)
    lines.push(
      `m=audio ${input.audio.port} RTP/AVP ${input.audio.payloadType}`,
      `a=rtpmap:${input.audio.payloadType} opus/48000/2`,
    );
  return `${lines.join('\r\n')}\r\n`;
}

export function whipBridgeArgs(o: { rtmpUrl: string; audio: boolean; logLevel?: string }): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    o.logLevel ?? 'warning',
    '-protocol_whitelist',
    'pipe,udp,rtp',
    // The browser's packets arrive paced and in order on loopback: nothing to wait for.
    '-fflags',
    '+nobuffer+genpts',
    '-flags',
    'low_delay',
    // ffmpeg waits for a keyframe's SPS and PPS before it writes the FLV header; the publisher
    // sends one when asked, which a loaded machine can take over a second to do. The probe ends as
    // soon as every stream is known, so a long limit costs nothing when the keyframe is prompt.
    '-analyzeduration',
    '5000000',
    '-probesize',
    '5000000',
    '-reorder_queue_size',
    '64',
    '-f',
    'sdp',
    '-i',
    'pipe:0',
    '-map',
    '0:v:0',
    ...(o.audio ? ['-map', '0:a:0'] : []),
    '-c:v',
    'copy',
    ...(o.audio ? ['-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2'] : []),
    '-f',
    'flv',
    o.rtmpUrl,
  ];
}

export interface RtmpBridgeSource {
  url: string;
  /** The source's video can be copied (H.264 without B-frames), else it is re-encoded. */
  copyVideo: boolean;
  audio: boolean;
  frameRate: number | null;
}

export function rtmpBridgeArgs(
  src: RtmpBridgeSource,
  out: { videoPort: number; audioPort: number; videoBitrateKbps: number; logLevel?: string },
): string[] {
  const rtp = (port: number): string => `rtp://127.0.0.1:${port}?pkt_size=1200`;
  const gop = String(Math.max(1, Math.round(src.frameRate ?? 30)));
  const kbps = out.videoBitrateKbps;
  return [
    '-hide_banner',
    '-loglevel',
    out.logLevel ?? 'warning',
    '-nostdin',
    '-fflags',
    'nobuffer',
    '-flags',
    'low_delay',
    '-i',
    src.url,
    '-map',
    '0:v:0',
    ...(src.copyVideo
      ? // In-band SPS/PPS before every keyframe: a viewer joining mid-stream can decode it.
        ['-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb']
      : [
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-tune',
          'zerolatency',
          '-profile:v',
          'baseline',
          '-pix_fmt',
          'yuv420p',
          '-g',
          gop,
          '-bf',
          '0',
          '-b:v',
          `${kbps}k`,
          '-maxrate',
          `${kbps}k`,
          '-bufsize',
          `${Math.round(kbps / 2)}k`,
        ]),
    '-f',
    'rtp',
    rtp(out.videoPort),
    ...(src.audio
      ? [
          '-map',
          '0:a:0',
          '-c:a',
          'libopus',
          '-ar',
          '48000',
          '-ac',
          '2',
          '-b:a',
          '96k',
          '-application',
          'lowdelay',
          '-frame_duration',
          '20',
          '-f',
          'rtp',
          rtp(out.audioPort),
        ]
      : []),
  ];
}
