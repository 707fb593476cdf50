import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  demoBroadcast,
  api,
  assertPlatformUp,
  BASE,
  livePlatformUp,
  People,
  type Platform,
  SHOTS,
  videoTime,
  WAIT,
} from './harness.ts';

/** The demo broadcast that `./live up` starts, found on the browse page and played. */
describe('web page: the demo broadcast', () => {
  let platform: Platform;
  let people: People;

  before(
    async () => {
      platform = await livePlatformUp();
      people = await People.start();
    },
    { timeout: 240_000 },
  );
  after(async () => people?.close());

  it('plays from the browse page: video time advances, with a quality menu from the ladder', async () => {
    assertPlatformUp(platform);
    const demo = await demoBroadcast();
    const page = await people.page();
    await page.goto(BASE);
    const card = page.locator(`[data-testid="stream-card"][data-stream-id="${demo.stream_id}"]`);
    await card.waitFor(WAIT);
    await page.screenshot({ path: join(SHOTS, 'browse.png') });
    await card.click();
    await page.getByTestId('live-badge').waitFor(WAIT);
    const start = await videoTime(page, 0);
    await videoTime(page, start + 2);

    // The menu is the ladder the master playlist lists: the full one, or what the worker could
    // afford when it dropped rungs to keep up (docs/media.md), so it is compared with the playlist.
    const options = await page.getByTestId('quality').locator('option').allTextContents();
    assert.match(options[0] ?? '', /^Auto/);
    const { playback_urls } = await api<{ playback_urls: { hls: string } }>(
      `/api/v1/streams/${encodeURIComponent(demo.stream_id)}/playback`,
    );
    const master = await (await fetch(playback_urls.hls)).text();
    const listed = [...master.matchAll(/NAME="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(listed.length > 0, master);
    assert.deepEqual(
      options.slice(1).sort(),
      [...listed].sort(),
      `menu ${options.join(', ')}; playlist ${listed.join(', ')}`,
    );
    await page
      .getByTestId('latency')
      .filter({ hasText: /behind live/ })
      .waitFor(WAIT);
    await page.screenshot({ path: join(SHOTS, 'watch.png') });
  });
});
