import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderBenchmarksDoc } from './lib/results.ts';

/**
 * `npm run bench -- <name> [args...]` runs bench/<name>.ts in its own Node process (so its memory
 * figures are its own), then regenerates docs/benchmarks.md from bench/results/*.json.
 * `npm run bench -- docs` only regenerates the document.
 */
const here = import.meta.dirname;
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));

if (!name || (name !== 'docs' && !available.includes(name))) {
  console.error(`usage: npm run bench -- <${[...available, 'docs'].join('|')}> [args...]`);
  process.exit(2);
}
let status = 0;
if (name !== 'docs') {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) throw new Error(`${file} is missing`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: 'inherit',
    cwd: resolve(here, '..'),
  });
  status = r.status ?? 1;
  if (status !== 0) console.error(`bench ${name} exited with ${r.status ?? r.signal}`);
}
console.log(`wrote ${renderBenchmarksDoc()}`);
process.exit(status);
