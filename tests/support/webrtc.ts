import type { Browser, Page } from 'playwright-core';

/**
 * WHIP and WHEP from a real browser page, with the browser's own RTCPeerConnection: what the web
 * page does, without its UI. Each function runs in the page; the page must be a secure context
 * (http://127.0.0.1 is one) for the camera.
 */
/**
 * A page for the functions below. tsx compiles with esbuild's keepNames, which wraps a page
 * function's inner functions in __name(); Playwright sends the function's source alone, so the
 * page supplies a no-op __name.
 */
export async function webrtcPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript('window.__name = (f) => f;');
  await page.goto(url).catch(() => undefined);
  return page;
}

export interface WhipResult {
  status: number;
  location: string | null;
  body: string;
}

/** Publishes the fake camera and microphone to `whipUrl` with `key` as the bearer token. */
export function whipPublish(page: Page, whipUrl: string, key: string): Promise<WhipResult> {
  return page.evaluate(
    async ({ whipUrl, key }) => {
      const media = await navigator.mediaDevices.getUserMedia({
        video: { width: 640, height: 360, frameRate: 30 },
        audio: true,
      });
      const pc = new RTCPeerConnection();
      for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
      const h264 = RTCRtpSender.getCapabilities('video')!.codecs.filter(
        (c) => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? ''),
      );
      pc.getTransceivers()
        .find((t) => t.sender.track?.kind === 'video')!
        .setCodecPreferences(h264);
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((done) => {
        if (pc.iceGatheringState === 'complete') return done();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
        setTimeout(done, 2000);
      });
      const res = await fetch(whipUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` },
        body: pc.localDescription!.sdp,
      });
      const body = await res.text();
      if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
      (window as unknown as { publisher: RTCPeerConnection }).publisher = pc;
      return { status: res.status, location: res.headers.get('location'), body };
    },
    { whipUrl, key },
  );
}

/** Plays `whepUrl` in a <video> of the page; frames are counted as they are presented. */
export function whepPlay(page: Page, whepUrl: string): Promise<WhipResult> {
  return page.evaluate(async (whepUrl) => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    document.body.append(video);
    const w = window as unknown as { frames: number; viewer: RTCPeerConnection };
    w.frames = 0;
    const count = (): void => {
      w.frames++;
      video.requestVideoFrameCallback(count);
    };
    video.requestVideoFrameCallback(count);
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => {
      stream.addTrack(e.track);
      video.srcObject = stream;
    });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((done) => {
      if (pc.iceGatheringState === 'complete') return done();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
      setTimeout(done, 2000);
    });
    const res = await fetch(whepUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: pc.localDescription!.sdp,
    });
    const body = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
    w.viewer = pc;
    return { status: res.status, location: res.headers.get('location'), body };
  }, whepUrl);
}

/** Frames the page's WHEP <video> has presented so far, and its size. */
export function presented(page: Page): Promise<{ frames: number; width: number; height: number }> {
  return page.evaluate(() => {
    const v = document.querySelector('video')!;
    return { frames: (window as unknown as { frames: number }).frames, width: v.videoWidth, height: v.videoHeight };
  });
}
