import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  demoBroadcast,
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

    const options = await page.getByTestId('quality').locator('option').allTextContents();
    assert.match(options[0] ?? '', /^Auto/);
    assert.ok(options.length >= 3, `Auto and at least two renditions: ${options.join(', ')}`);
    await page
      .getByTestId('latency')
      .filter({ hasText: /behind live/ })
      .waitFor(WAIT);
    await page.screenshot({ path: join(SHOTS, 'watch.png') });
  });
});
