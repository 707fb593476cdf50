import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter } from './launcher/types.ts';
import { REPO_ROOT } from '../platform/paths.ts';

/**
 * The web page's build (web/ → web/dist, which the API serves). `./live up` and the test runner
 * call this so a fresh clone needs no extra step: it builds when web/dist is missing or older
 * than any source of it.
 */
const root = REPO_ROOT;
export const WEB_DIST = join(root, 'web', 'dist');

function newestMtime(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

export function webBuildIsStale(): boolean {
  const built = statSync(join(WEB_DIST, 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = ['web/index.html', 'web/src', 'web/public', 'web/vite.config.ts', 'package-lock.json'];
  return sources.some((s) => newestMtime(join(root, s)) > built);
}

export function ensureWebBuild(report: Reporter): void {
  if (!webBuildIsStale()) return;
  report.info('building the web page (vite build web)');
  const r = spawnSync(join(root, 'node_modules', '.bin', 'vite'), ['build', 'web', '--logLevel', 'warn'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    throw new Error(`building the web page failed (exit ${r.status}):\n${(r.stderr || r.stdout).slice(-3000)}`);
  }
}
