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
import { waitFor } from '../support/wait.ts';

/** The demo broadcast that `./live up` starts, found on the browse page, played and rewound. */
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
    // A rung joins the master once its first segment is out, so just after `./live up` the master
    // can still be growing; hls.js reads it once, at the start.
    await waitFor(
      'the master to list the ladder',
      async () => {
        const { playback_urls, qualities } = await api<{
          playback_urls: { hls: string };
          qualities: { name: string }[];
        }>(`/api/v1/streams/${encodeURIComponent(demo.stream_id)}/playback`);
        const master = await (await fetch(playback_urls.hls)).text();
        return qualities.length > 0 && qualities.every((q) => master.includes(`NAME="${q.name}"`));
      },
      60_000,
    );
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

  it('a viewer rewinds the live demo a minute, watches from there, and goes back to live', async () => {
    assertPlatformUp(platform);
    const demo = await demoBroadcast();
    const { started_at } = await api<{ started_at: string }>(
      `/api/v1/streams/${encodeURIComponent(demo.stream_id)}/playback`,
    );
    // The DVR playlists reach back to the start of the broadcast: give it more than a minute.
    const liveFor = Date.now() - Date.parse(started_at);
    if (liveFor < 75_000) await new Promise((r) => setTimeout(r, 75_000 - liveFor));

    const page = await people.page();
    await page.goto(`${BASE}/streams/${encodeURIComponent(demo.stream_id)}`);
    await page.getByTestId('live-badge').waitFor(WAIT);
    await videoTime(page, 1);
    const latency = page.getByTestId('latency');
    /** Seconds behind live the player bar shows while rewound ("1:02 behind live"), else null. */
    const rewoundBy = async (): Promise<number | null> => {
      const m = /^(\d+):(\d\d) behind live$/.exec((await latency.textContent()) ?? '');
      return m ? Number(m[1]) * 60 + Number(m[2]) : null;
    };

    await page.getByTestId('rewind').click();
    // From the frame the live player showed, which is itself some seconds behind live.
    const first = await waitFor(
      '30 s behind live',
      async () => {
        const s = await rewoundBy();
        return s !== null && s >= 25 && s;
      },
      60_000,
    );
    await page.getByTestId('rewind').click();
    const behind = await waitFor(
      '30 s further back',
      async () => {
        const s = await rewoundBy();
        return s !== null && s >= first + 25 && s;
      },
      60_000,
    );
    assert.ok(behind >= 55 && behind <= first + 40, `rewound ${first} s, then ${behind} s`);
    const at = await videoTime(page, 0);
    await videoTime(page, at + 2);
    assert.ok(((await rewoundBy()) ?? 0) >= 55, 'it plays from there, not pulled back to live');
    await page.screenshot({ path: join(SHOTS, 'dvr.png') });

    await page.getByRole('button', { name: 'Go to live' }).click();
    await waitFor(
      'back at live',
      async () => {
        const text = (await latency.textContent()) ?? '';
        // The live player's own label, well short of the minute it was rewound (how short is the
        // tier's business: the glass benchmark measures it).
        const m = /^([\d.]+) s behind live$/.exec(text);
        return m !== null && Number(m[1]) < 30;
      },
      60_000,
    );
    const back = await videoTime(page, 0);
    await videoTime(page, back + 1);
  });
});
