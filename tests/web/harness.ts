import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { endpointsOf, launcherConfig } from '../../compose/launcher/config.ts';
import { platformServices } from '../../compose/services.ts';
import { launchChromium } from '../support/browser.ts';
import { REPO_ROOT } from '../../platform/paths.ts';
import { waitFor } from '../support/wait.ts';

/**
 * What the browser specs share: the platform as `./live up` starts it (the README's command; it
 * is idempotent, so each spec file runs it and the first one pays for the start), a browser
 * whose contexts are separate people, and the steps a person takes.
 */
const root = REPO_ROOT;
export const SHOTS = join(root, 'docs', 'screenshots');
const services = platformServices(endpointsOf(launcherConfig()));
const apiService = services.find((s) => s.name === 'api')!;
export const BASE = `http://127.0.0.1:${apiService.env.API_PORT}`;
/** The chat gateway's HTTP API (history pages), as the page reaches it. */
export const CHAT_BASE = `http://127.0.0.1:${services.find((s) => s.name === 'chat-gateway')!.env.CHAT_PORT}`;
/** Playwright waits: generous for a loaded 2-core box; they turn a hang into a failure, nothing more. */
export const WAIT = { timeout: 60_000 };

export interface Platform {
  code: number | null;
  output: string;
}

/** `./live up`; its output is kept for the failure message. */
export function livePlatformUp(): Promise<Platform> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'compose/platform.ts', 'up'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-6000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => done({ code, output }));
  });
}

export function assertPlatformUp(p: Platform): void {
  assert.equal(p.code, 0, `./live up failed:\n${p.output}`);
}

/**
 * What the pages reported breaking their Content-Security-Policy (gateways/api/web.ts) since the
 * last test ended: Chromium's console error and the page's securitypolicyviolation event. The test
 * during which a page broke it fails, so a policy too strict for the real page shows at once.
 */
const cspViolations: string[] = [];
afterEach(() => {
  if (!cspViolations.length) return;
  assert.fail(`the page broke its Content-Security-Policy:\n${cspViolations.splice(0).join('\n')}`);
});

export class People {
  private readonly contexts: BrowserContext[] = [];
  private constructor(private readonly browser: Browser) {}

  /** `chromiumArgs`: e.g. FAKE_MEDIA_ARGS, for a streamer who broadcasts from the page. */
  static async start(chromiumArgs: string[] = []): Promise<People> {
    mkdirSync(SHOTS, { recursive: true });
    return new People(await launchChromium(chromiumArgs));
  }

  /** A new person: a browser context of their own (storage, session). */
  async page(): Promise<Page> {
    const ctx = await this.browser.newContext({ viewport: { width: 1400, height: 860 } });
    this.contexts.push(ctx);
    await ctx.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`),
      ),
    );
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text()))
        cspViolations.push(`${page.url()}: ${m.text()}`);
    });
    return page;
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close();
    await this.browser.close();
  }
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${BASE}${path}`, init);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A made-up word (consonant-vowel pairs): unique to the run and far from dictionary words. */
export function word(): string {
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  return Array.from(randomBytes(8), (b, i) => (i % 2 ? v[b % v.length] : c[b % c.length])).join('');
}

/** The demo broadcast `./live up` starts, once the search index lists it live. */
export function demoBroadcast(): Promise<{ stream_id: string; streamer: { username: string } }> {
  return waitFor(
    'the demo broadcast to be live',
    async () =>
      (
        await api<{ streams: { stream_id: string; streamer: { username: string } }[] }>(
          `/api/v1/streams/search?q=${encodeURIComponent('Demo broadcast')}&status=live`,
        )
      ).streams.find((s) => s.streamer.username === 'demo'),
    90_000,
  );
}

export const watchUrl = (id: string): string => `${BASE}/streams/${encodeURIComponent(id)}`;

export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto(`${BASE}/sign-in`);
  await page.getByTestId('username').fill(username);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#me', { hasText: username }).waitFor(WAIT);
}

export interface CreatedStream {
  id: string;
  key: string;
  rtmp: string;
}

/** The go-live form, as a streamer fills it; returns what the page shows once. */
export async function goLive(
  page: Page,
  title: string,
  latency: 'standard' | 'low' | 'ultra-low' = 'standard',
): Promise<CreatedStream> {
  await page.getByRole('link', { name: 'Go live' }).click();
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Latency').selectOption(latency);
  await page.getByLabel('Category').fill('Retro');
  await page.getByLabel('Tags').fill('speedrun, english');
  await page.getByTestId('create-stream').click();
  const key = await page.getByTestId('stream-key').textContent(WAIT);
  const rtmp = await page.getByTestId('rtmp-url').textContent();
  const href = await page.getByRole('link', { name: 'Open your stream page' }).getAttribute('href');
  const id = /^\/streams\/(.+)$/.exec(href ?? '')?.[1];
  assert.ok(key && rtmp && id, 'the page shows the key, the RTMP URL and the stream');
  return { id: decodeURIComponent(id), key, rtmp };
}

export const viewerCount = (page: Page, n: number): Promise<void> =>
  page
    .getByTestId('viewer-count')
    .filter({ hasText: new RegExp(`^${n} viewers?$`) })
    .waitFor(WAIT);

/** Resolves with the video's time once it has started playing. */
export async function videoTime(page: Page, above: number): Promise<number> {
  const handle = await page.waitForFunction(
    (min) => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="video"]');
      return v && v.currentTime > min ? v.currentTime : false;
    },
    above,
    WAIT,
  );
  return (await handle.jsonValue()) as number;
}
