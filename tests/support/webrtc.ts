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
  /** Wall-clock ms (the machine's clock, as Node's Date.now) when the offer was POSTed. */
  postedAt: number;
}

export interface WhepResult extends WhipResult {
  /** Wall-clock ms of the 201, and how many POSTs it took (a 404 is retried: not live yet). */
  answeredAt: number;
  attempts: number;
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
      const postedAt = performance.timeOrigin + performance.now();
      const res = await fetch(whipUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` },
        body: pc.localDescription!.sdp,
      });
      const body = await res.text();
      if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
      (window as unknown as { publisher: RTCPeerConnection }).publisher = pc;
      return { status: res.status, location: res.headers.get('location'), body, postedAt };
    },
    { whipUrl, key },
  );
}

/**
 * Plays `whepUrl` in a muted <video> of the page; frames are counted as they are presented
 * (`presented`), the first one's time kept (`firstFrameAt`). With `retryMs`, a 404 (not live yet)
 * is POSTed again every `retryMs` until `giveUpMs` has passed.
 */
export function whepPlay(
  page: Page,
  whepUrl: string,
  retry: { retryMs: number; giveUpMs: number } = { retryMs: 0, giveUpMs: 0 },
): Promise<WhepResult> {
  return page.evaluate(
    async ({ whepUrl, retry }) => {
      const wall = (): number => performance.timeOrigin + performance.now();
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      document.body.append(video);
      const w = window as unknown as { frames: number; firstFrameAt: Promise<number>; viewer: RTCPeerConnection };
      w.frames = 0;
      w.firstFrameAt = new Promise<number>((done) =>
        video.requestVideoFrameCallback((_now, md) => done(performance.timeOrigin + md.expectedDisplayTime)),
      );
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
      w.viewer = pc;
      const until = performance.now() + retry.giveUpMs;
      for (let attempts = 1; ; attempts++) {
        const postedAt = wall();
        const res = await fetch(whepUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/sdp' },
          body: pc.localDescription!.sdp,
        });
        const body = await res.text();
        const answeredAt = wall();
        if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
        if (res.status === 201 || res.status !== 404 || !retry.retryMs || performance.now() > until)
          return { status: res.status, location: res.headers.get('location'), body, postedAt, answeredAt, attempts };
        await new Promise((r) => setTimeout(r, retry.retryMs));
      }
    },
    { whepUrl, retry },
  );
}

/** Wall-clock ms of the first frame the page's WHEP <video> presented (waits for it). */
export function firstFrameAt(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { firstFrameAt: Promise<number> }).firstFrameAt);
}

/** Frames the page's WHEP <video> has presented so far, and its size. */
export function presented(page: Page): Promise<{ frames: number; width: number; height: number }> {
  return page.evaluate(() => {
    const v = document.querySelector('video')!;
    return { frames: (window as unknown as { frames: number }).frames, width: v.videoWidth, height: v.videoHeight };
  });
}
