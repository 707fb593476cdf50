import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../platform/paths.ts';
import { waitFor } from '../support/wait.ts';
import {
  assertPlatformUp,
  BASE,
  demoBroadcast,
  livePlatformUp,
  People,
  type Platform,
  SHOTS,
  signIn,
  videoTime,
  WAIT,
  watchUrl,
} from './harness.ts';

/**
 * The operator view of `./live up`: an operator's token (minted with `npm run token -- --admin`,
 * as docs/operations.md says) opens /ops, which charts the platform's own Prometheus through the
 * API; a viewer signed in the ordinary way is refused.
 */
const run = promisify(execFile);

describe('web page: the operator dashboard', () => {
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

  it("charts the platform's metrics and lists alerts for an operator", async () => {
    assertPlatformUp(platform);
    const { stdout } = await run(
      'npx',
      ['tsx', 'gateways/api/token.ts', '--user', 'ops_1', '--name', 'ops', '--admin'],
      {
        cwd: REPO_ROOT,
      },
    );
    const token = stdout.trim();
    const dashboard = async () => {
      const answer = await fetch(`${BASE}/api/v1/admin/dashboard?minutes=15`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(answer.status, 200, await answer.clone().text());
      return ((await answer.json()) as { panels: Array<{ id: string; series: unknown[] }> }).panels;
    };
    const seriesOf = async (id: string) => (await dashboard()).find((p) => p.id === id)!.series;
    assert.ok((await seriesOf('events-produced')).length > 0, 'Prometheus has the bus traffic');

    // A viewer watching the demo reports its glass to glass in heartbeats: the gateway's histogram,
    // scraped by Prometheus, fills the per-tier latency panel.
    const viewer = await people.page();
    await viewer.goto(watchUrl((await demoBroadcast()).stream_id));
    await videoTime(viewer, 1);
    await waitFor(
      'players’ glass to glass in Prometheus',
      async () => (await seriesOf('glass-to-glass')).length > 0,
      120_000,
    );

    const page = await people.page();
    await page.addInitScript((t: string) => {
      localStorage.setItem(
        'live.session',
        JSON.stringify({ token: t, userId: 'ops_1', username: 'ops', expiresAt: Date.now() + 3_600_000 }),
      );
    }, token);
    await page.goto(`${BASE}/ops`);
    await page.getByRole('heading', { name: 'Operations' }).waitFor(WAIT);
    // Each panel with data draws a uPlot canvas: the bus and the live demo always have some.
    for (const id of ['events-produced', 'consumer-lag', 'live-streams', 'viewers', 'glass-to-glass']) {
      await page.locator(`[data-panel="${id}"] canvas`).first().waitFor(WAIT);
    }
    await page
      .getByRole('status')
      .filter({ hasText: /Updated/ })
      .waitFor(WAIT);
    await page.screenshot({ path: join(SHOTS, 'ops.png'), fullPage: true });
  });

  it('refuses anyone without the admin role, in the API and on the page', async () => {
    const page = await people.page();
    await signIn(page, 'plainviewer');
    const token = await page.evaluate(
      () => (JSON.parse(localStorage.getItem('live.session')!) as { token: string }).token,
    );
    const answer = await fetch(`${BASE}/api/v1/admin/dashboard`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 403);
    assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'not_admin');
    assert.equal((await fetch(`${BASE}/api/v1/admin/dashboard`)).status, 401);
    await page.goto(`${BASE}/ops`);
    await waitFor('the refusal on the page', async () =>
      /Only operators/.test((await page.getByRole('status').textContent()) ?? ''),
    );
  });
});
