import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { publishTestPattern, type Publisher } from '../support/media.ts';
import { waitFor } from '../support/wait.ts';
import {
  api,
  assertPlatformUp,
  BASE,
  goLive,
  livePlatformUp,
  People,
  type Platform,
  SHOTS,
  signIn,
  videoTime,
  WAIT,
  watchUrl,
  word,
} from './harness.ts';

/**
 * A channel page (issue #26): while the streamer is live it links to the stream; once the
 * broadcast ended and its recording is written, it lists the recording as a past broadcast, and
 * clicking the card plays the recording on the watch page.
 */
describe('web page: a channel and its past broadcasts', () => {
  let platform: Platform;
  let people: People;
  let streamer: Page;
  let viewer: Page;
  let publisher: Publisher | undefined;
  const name = `c_${word()}`;
  const channelUrl = `${BASE}/users/${encodeURIComponent(`dev_${name}`)}`;
  const stopPublisher = () => publisher?.proc.kill('SIGINT');

  before(
    async () => {
      process.once('exit', stopPublisher);
      platform = await livePlatformUp();
      people = await People.start();
      [streamer, viewer] = [await people.page(), await people.page()];
    },
    { timeout: 240_000 },
  );
  after(async () => {
    stopPublisher();
    await people?.close();
  });

  it('shows the live stream, then lists its recording; a card plays it', async () => {
    assertPlatformUp(platform);
    await signIn(streamer, name);
    const title = `Sunday recital ${word()}`;
    const { id, key, rtmp } = await goLive(streamer, title);
    publisher = publishTestPattern(`${rtmp}/${key}`, { size: '320x240', fps: 15 });
    await waitFor(
      'the stream to go live',
      async () =>
        (await api<{ status: string }>(`/api/v1/streams/${encodeURIComponent(id)}/playback`)).status === 'live',
      60_000,
    );

    // From the watch page, the streamer's name leads to the channel, which links back to the live stream.
    await viewer.goto(watchUrl(id));
    await videoTime(viewer, 4);
    await viewer.getByTestId('streamer-link').click();
    await viewer.waitForURL(channelUrl);
    await viewer.getByTestId('channel-name').filter({ hasText: name }).waitFor(WAIT);
    const liveLink = viewer.getByTestId('channel-live').getByRole('link', { name: new RegExp(title) });
    await liveLink.waitFor(WAIT);
    assert.equal(await liveLink.getAttribute('href'), `/streams/${encodeURIComponent(id)}`);
    await viewer
      .getByTestId('follower-count')
      .filter({ hasText: /^\d+ followers?$/ })
      .waitFor(WAIT);

    await streamer.goto(`${BASE}/go-live`);
    await streamer.getByTestId('end-stream').click();
    await streamer.getByTestId('stream-state').filter({ hasText: 'The stream has ended.' }).waitFor(WAIT);
    stopPublisher();
    // The packager finishes the recording after the end; the library lists it from then on.
    await waitFor('the recording in the library', () => api(`/api/v1/videos/${encodeURIComponent(id)}`), 120_000);

    await viewer.goto(channelUrl);
    await viewer.getByTestId('channel-live').filter({ hasText: 'OFFLINE' }).waitFor(WAIT);
    const card = viewer.locator(`[data-testid="video-card"][data-video-id="${id}"]`);
    await card.filter({ hasText: title }).waitFor(WAIT);
    assert.match((await card.getByTestId('video-duration').textContent()) ?? '', /^\d+:\d\d$/);
    assert.match((await card.locator('time').textContent()) ?? '', /^today$|^yesterday$/);
    await viewer.screenshot({ path: join(SHOTS, 'channel.png'), fullPage: true });

    await card.getByTestId('video-link').click();
    await viewer.waitForURL(watchUrl(id));
    await viewer.locator('.pill', { hasText: 'VOD' }).waitFor(WAIT);
    await videoTime(viewer, 1);
  });
});
