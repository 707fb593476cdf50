import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { FAKE_MEDIA_ARGS } from '../support/browser.ts';
import { publishTestPattern, type Publisher } from '../support/media.ts';
import { waitFor } from '../support/wait.ts';
import {
  api,
  assertPlatformUp,
  BASE,
  goLive,
  livePlatformUp,
  People,
  type CreatedStream,
  type Platform,
  SHOTS,
  signIn,
  videoTime,
  viewerCount,
  WAIT,
  watchUrl,
  word,
} from './harness.ts';

/**
 * Ultra-low latency end to end in the page: a streamer broadcasts Chromium's fake camera from
 * the go-live page (WHIP to the webrtc service `./live up` starts), a viewer watches over WHEP,
 * stopping the broadcast ends the stream; a viewer whose WebRTC is refused plays LL-HLS instead.
 */
describe('web page: broadcast from the browser, watch over WebRTC', () => {
  let platform: Platform;
  let people: People;
  let streamer: Page;
  let viewer: Page;
  let refused: Page;
  let stream: CreatedStream | undefined;
  let encoder: Publisher | undefined;
  const stopEncoder = () => encoder?.proc.kill('SIGINT');

  const created = (): CreatedStream => {
    assert.ok(stream, 'no stream was created');
    return stream;
  };
  const playback = (id: string) =>
    api<{ status: string; viewers_by_quality: Record<string, number> }>(
      `/api/v1/streams/${encodeURIComponent(id)}/playback`,
    );

  before(
    async () => {
      // Never leave an encoder running, even when the runner ends this file early.
      process.once('exit', stopEncoder);
      platform = await livePlatformUp();
      people = await People.start(FAKE_MEDIA_ARGS);
      [streamer, viewer, refused] = [await people.page(), await people.page(), await people.page()];
    },
    { timeout: 240_000 },
  );
  after(async () => {
    stopEncoder();
    await people?.close();
  });

  it('a streamer broadcasts from the go-live page and a viewer watches over WebRTC', async () => {
    assertPlatformUp(platform);
    await signIn(streamer, `b_${word()}`);
    stream = await goLive(streamer, `Camera check ${word()}`, 'ultra-low');
    const { id } = stream;

    await streamer.getByTestId('broadcast-open').click();
    await streamer.getByTestId('broadcast-start').click();
    await streamer
      .getByTestId('broadcast-health')
      .filter({ hasText: /^live · \d+ kbps · \d+ fps/ })
      .waitFor(WAIT);
    await waitFor('the stream to go live', async () => (await playback(id)).status === 'live', 60_000);
    await streamer.getByTestId('stream-state').filter({ hasText: "You're live!" }).waitFor(WAIT);
    await streamer.screenshot({ path: join(SHOTS, 'go-live-broadcast.png'), fullPage: true });

    await viewer.goto(watchUrl(id));
    await viewer.getByTestId('live-badge').waitFor(WAIT);
    // Frames as the video presents them; a string, so no bundler helper travels into the page.
    await viewer.evaluate(`(() => {
      const v = document.querySelector('[data-testid="video"]');
      window.presented = 0;
      const count = () => { window.presented++; v.requestVideoFrameCallback(count); };
      v.requestVideoFrameCallback(count);
    })()`);
    await viewer.waitForFunction(() => (window as unknown as { presented: number }).presented > 30, undefined, WAIT);
    const shown = await viewer.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="video"]')!;
      return { fromWebRtc: v.srcObject instanceof MediaStream, width: v.videoWidth };
    });
    assert.ok(shown.fromWebRtc, 'the video plays the WHEP stream');
    assert.ok(shown.width > 0, 'the video has a picture');
    assert.equal(await viewer.getByTestId('transport').textContent(), 'WebRTC · ultra-low');
    await viewerCount(viewer, 1);
    // The WHEP viewer's heartbeats name its quality as WebRTC's (the source, not a rendition).
    await waitFor(
      'the WebRTC viewer in the quality mix',
      async () => (await playback(id)).viewers_by_quality.webrtc === 1,
      60_000,
    );
    await viewer.screenshot({ path: join(SHOTS, 'watch-webrtc.png') });

    // Leaving the page ends the WHEP session.
    const deleted = viewer.waitForResponse(
      (r) => r.request().method() === 'DELETE' && /\/whep\/sessions\//.test(r.url()),
      WAIT,
    );
    await viewer.locator('a.brand').click();
    assert.equal((await deleted).status(), 200);
  });

  it('stopping the broadcast ends the stream', async () => {
    const { id } = created();
    await streamer.getByTestId('broadcast-stop').click();
    await waitFor('the stream to end', async () => (await playback(id)).status === 'ended', 60_000);
    await streamer.getByTestId('stream-state').filter({ hasText: 'The stream has ended.' }).waitFor(WAIT);
  });

  it('a viewer whose WebRTC is refused plays LL-HLS instead', async () => {
    // An ultra-low stream from an encoder (ffmpeg, as OBS would): WHEP is offered for it too.
    await streamer.goto(BASE);
    const { id, key, rtmp } = await goLive(streamer, `Auction ${word()}`, 'ultra-low');
    encoder = publishTestPattern(`${rtmp}/${key}`, { size: '320x240', fps: 15 });
    await waitFor('the encoder’s stream to go live', async () => (await playback(id)).status === 'live', 60_000);
    // The gateway's answer to one viewer too many (503, Retry-After, its JSON error).
    let refusals = 0;
    await refused.route('**/whep/*', (route) =>
      route.request().method() === 'POST' && ++refusals
        ? route.fulfill({
            status: 503,
            headers: { 'access-control-allow-origin': '*', 'retry-after': '10' },
            contentType: 'application/json',
            body: JSON.stringify({
              error: { code: 'too_many_viewers', message: 'this stream has all the viewers it takes' },
            }),
          })
        : route.continue(),
    );
    await refused.goto(watchUrl(id));
    const transport = refused.getByTestId('transport');
    await transport.filter({ hasText: /^LL-HLS$/ }).waitFor(WAIT);
    assert.equal(refusals, 1, 'the page offered once and was refused');
    assert.equal(
      await transport.getAttribute('data-fallback'),
      'WebRTC refused (503: this stream has all the viewers it takes)',
    );
    const start = await videoTime(refused, 0);
    await videoTime(refused, start + 2);
    await refused
      .getByTestId('latency')
      .filter({ hasText: /^\d+(\.\d)? s behind live$/ })
      .waitFor(WAIT);
  });
});
