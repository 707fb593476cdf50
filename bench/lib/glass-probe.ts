import type HlsType from 'hls.js';

/**
 * The glass-to-glass probe, run inside Chromium (Playwright sends this function's source to the
 * page, so it may use nothing from this module's scope): hls.js plays a live stream in a muted
 * <video>, and every frame the compositor presents (requestVideoFrameCallback) is drawn to a
 * canvas and its bar-code clock read, with the moment it is expected on screen.
 *
 * The bar code (bench/lib/live-rig.ts) is 24 blocks across the width in the top 48 of 360 lines;
 * one line through the middle of the strip is read, each block's middle half averaged (so the
 * scaler's blur at the block edges, and any rendition's width, do not matter) and thresholded.
 */
export interface ProbeArgs {
  url: string;
  /**
   * A WHEP endpoint to play instead of `url` with hls.js: the browser's own RTCPeerConnection
   * (recvonly video and audio) into the same muted <video>, as the web page plays an ultra-low
   * stream. The hls.js fields below are then unused.
   */
  whep?: string;
  /** hls.js configuration (the web page's, from web/src/lib/format.ts). */
  config: Record<string, unknown>;
  /**
   * The page's `followLive` (web/src/lib/format.ts) as source, and its plain-HLS fallback target
   * in target durations: run once hls.js exists and on every playlist update, as the page does.
   */
  followLive: string;
  /** The page's catch-up rate for the tier (`catchUpRate`). */
  catchUpRate: number;
  fallbackSyncDurationCount: number;
  bits: number;
  /** The strip's middle line as a fraction of the picture height. */
  codeLine: number;
}

/** One presented frame. */
export interface ProbeFrame {
  /** Wall-clock ms it is expected on screen: performance.timeOrigin + expectedDisplayTime. */
  shownAt: number;
  /** Its bar code: ms since the publisher started. */
  code: number;
  /** Its time on the media element's timeline, s. */
  mediaTime: number;
  playbackRate: number;
  /** Picture height (the rendition playing). */
  height: number;
  /** hls.js's own estimate of how far behind the live edge it plays, s (0 over WebRTC). */
  hlsLatency: number;
  /** Over WebRTC: wall-clock ms the frame's last packet reached the browser (its receiveTime). */
  receivedAt: number | null;
  /** Over WebRTC: the frame's RTP timestamp (90 kHz), unwrapped from the first frame's. */
  rtpTime: number | null;
}

export interface ProbeState {
  frames: ProbeFrame[];
  /** Wall-clock ms of each `waiting` event (playback stalled for want of data) and its length. */
  stalls: Array<{ at: number; ms: number }>;
  /** Wall-clock ms of the stall going on now, if any. */
  stalledSince: number | null;
  /** Wall-clock ms of each seek (hls.js jumping back to the live sync position). */
  seeks: number[];
  /** hls.js errors by detail (fatal ones are retried as the web page does). */
  errors: Record<string, number>;
  targetLatency: number | null;
  /** hls.js's seek-back bound at the end, s. */
  maxLatency: number | null;
  /** The newest media playlist as hls.js read it: LL-HLS or not, and the hold-backs it gave. */
  /** Over WebRTC: the WHEP answer's HTTP status (201 when it played). */
  whepStatus?: number;
  playlist: {
    parts: boolean;
    partHoldBack: number;
    holdBack: number;
    targetDuration: number;
    canBlockReload: boolean;
  } | null;
}

export function startProbe(a: ProbeArgs): void {
  const Hls = (window as unknown as { Hls: typeof HlsType }).Hls;
  const state: ProbeState = {
    frames: [],
    stalls: [],
    stalledSince: null,
    seeks: [],
    errors: {},
    targetLatency: null,
    maxLatency: null,
    playlist: null,
  };
  (window as unknown as { glass: ProbeState }).glass = state;
  const wall = (t: number) => performance.timeOrigin + t;

  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.width = 640;
  video.height = 360;
  document.body.append(video);

  video.addEventListener('waiting', () => (state.stalledSince ??= wall(performance.now())));
  video.addEventListener('playing', () => {
    const since = state.stalledSince;
    if (since !== null) state.stalls.push({ at: since, ms: wall(performance.now()) - since });
    state.stalledSince = null;
  });
  video.addEventListener('seeking', () => state.seeks.push(wall(performance.now())));

  const hls = a.whep ? null : new Hls(a.config);
  if (hls) {
    // The page's own function, sent as source (see ProbeArgs.followLive).
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the page's own function, by design
    const source = new Function(`return (${a.followLive})`) as () => (
      h: typeof hls,
      fallback: number,
      maxRate: number,
    ) => void;
    const followLive = source();
    const follow = () => followLive(hls, a.fallbackSyncDurationCount, a.catchUpRate);
    follow();
    video.addEventListener('timeupdate', follow);
    hls.on(Hls.Events.LEVEL_UPDATED, (_e, data) => {
      follow();
      const d = data.details;
      state.playlist = {
        parts: !!d.partList?.length,
        partHoldBack: d.partHoldBack,
        holdBack: d.holdBack,
        targetDuration: d.targetduration,
        canBlockReload: d.canBlockReload,
      };
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => void video.play().catch(() => undefined));
    hls.on(Hls.Events.ERROR, (_e, data) => {
      state.errors[data.details] = (state.errors[data.details] ?? 0) + 1;
      if (!data.fatal) return;
      // As web/src/player.ts does: reload after a network error, recover a media error.
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR)
        setTimeout(() => (hls.levels.length ? hls.startLoad() : hls.loadSource(a.url)), 2000);
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.attachMedia(video);
    hls.loadSource(a.url);
  } else {
    // WHEP (see ProbeArgs.whep): one offer with every host candidate, the answer applied.
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => {
      stream.addTrack(e.track);
      video.srcObject = stream;
      void video.play().catch(() => undefined);
    });
    void (async () => {
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((done) => {
        if (pc.iceGatheringState === 'complete') return done();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
        setTimeout(done, 2000);
      });
      const res = await fetch(a.whep!, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      state.whepStatus = res.status;
      const body = await res.text();
      if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
      else state.errors[`whep ${res.status}`] = 1;
    })();
    (window as unknown as { viewer: RTCPeerConnection }).viewer = pc;
  }

  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const onFrame = (_now: number, md: VideoFrameCallbackMetadata) => {
    const w = video.videoWidth;
    const h = video.videoHeight;
    if (w && h) {
      canvas.width = w;
      canvas.height = 1;
      ctx.drawImage(video, 0, Math.round(h * a.codeLine), w, 1, 0, 0, w, 1);
      const px = ctx.getImageData(0, 0, w, 1).data;
      let code = 0;
      for (let k = 0; k < a.bits; k++) {
        const from = Math.floor(((k + 0.25) * w) / a.bits);
        const to = Math.max(from + 1, Math.floor(((k + 0.75) * w) / a.bits));
        let sum = 0;
        for (let x = from; x < to; x++) sum += 0.299 * px[x * 4]! + 0.587 * px[x * 4 + 1]! + 0.114 * px[x * 4 + 2]!;
        code = code * 2 + (sum / (to - from) >= 128 ? 1 : 0);
      }
      let rtpTime: number | null = null;
      if (md.rtpTimestamp !== undefined) {
        // 32 bits at 90 kHz: unwrapped against the previous frame's.
        const prev = state.frames.at(-1)?.rtpTime ?? null;
        rtpTime = md.rtpTimestamp;
        if (prev !== null) {
          const step = (((md.rtpTimestamp - prev) % 2 ** 32) + 2 ** 32) % 2 ** 32;
          rtpTime = prev + (step > 2 ** 31 ? step - 2 ** 32 : step);
        }
      }
      state.frames.push({
        shownAt: wall(md.expectedDisplayTime),
        code,
        mediaTime: md.mediaTime,
        playbackRate: video.playbackRate,
        height: h,
        hlsLatency: hls?.latency ?? 0,
        receivedAt: md.receiveTime === undefined ? null : wall(md.receiveTime),
        rtpTime,
      });
      state.targetLatency = hls?.targetLatency ?? null;
      state.maxLatency = hls?.maxLatency ?? null;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

export interface CanvasPublisherArgs {
  whip: string;
  key: string;
  bits: number;
  width: number;
  height: number;
  /** The bar code's strip at the top, lines. */
  strip: number;
  fps: number;
}

export interface CanvasPublisherState {
  /** Wall-clock ms (this page's clock) a drawn code counts from. */
  startedAt: number;
  /** Wall-clock ms (this page's clock) the WHIP POST was sent, and its answer's status. */
  postedAt: number | null;
  status: number | null;
  location: string | null;
  drawn: number;
}

/**
 * A browser publisher with the same clock (run inside Chromium, like startProbe): a canvas the
 * size of the rig's picture gets, `fps` times a second, the bar code of the ms since it started
 * in its top `strip` lines (as the ffmpeg publisher burns it) over a moving picture, and
 * `canvas.captureStream(fps)` is published over WHIP (H.264, as the web page's publisher sends).
 * A frame's code is the moment it was drawn: when it was made.
 */
export async function startCanvasPublisher(a: CanvasPublisherArgs): Promise<CanvasPublisherState> {
  const wall = () => performance.timeOrigin + performance.now();
  const canvas = document.createElement('canvas');
  canvas.width = a.width;
  canvas.height = a.height;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d')!;
  const state: CanvasPublisherState = { startedAt: wall(), postedAt: null, status: null, location: null, drawn: 0 };
  (window as unknown as { publisher: CanvasPublisherState }).publisher = state;
  const block = a.width / a.bits;
  const draw = () => {
    const t = wall();
    const code = Math.round(t - state.startedAt);
    const x = ((t - state.startedAt) / 20) % a.width;
    ctx.fillStyle = `hsl(${(t / 20) % 360} 60% 40%)`;
    ctx.fillRect(0, a.strip, a.width, a.height - a.strip);
    ctx.fillStyle = '#ddd';
    ctx.fillRect(x, a.strip + 40, 80, a.height - a.strip - 80);
    ctx.fillStyle = '#fff';
    ctx.font = '32px monospace';
    ctx.fillText(String(code), 20, a.height - 30);
    for (let k = 0; k < a.bits; k++) {
      ctx.fillStyle = Math.floor(code / 2 ** (a.bits - 1 - k)) % 2 ? '#fff' : '#000';
      ctx.fillRect(Math.round(k * block), 0, Math.round((k + 1) * block) - Math.round(k * block), a.strip);
    }
    state.drawn++;
  };
  draw();
  setInterval(draw, 1000 / a.fps);
  const track = canvas.captureStream(a.fps).getVideoTracks()[0]!;
  const pc = new RTCPeerConnection();
  const t = pc.addTransceiver(track, { direction: 'sendonly' });
  t.setCodecPreferences(
    RTCRtpSender.getCapabilities('video')!.codecs.filter(
      (c) => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? ''),
    ),
  );
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
    setTimeout(done, 2000);
  });
  state.postedAt = wall();
  const res = await fetch(a.whip, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${a.key}` },
    body: pc.localDescription!.sdp,
  });
  state.status = res.status;
  state.location = res.headers.get('location');
  const body = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
  (window as unknown as { pc: RTCPeerConnection }).pc = pc;
  return state;
}
