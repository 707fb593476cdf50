import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { usageError, type Tool } from '../platform/cli.ts';
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

const TOOL: Tool = {
  name: 'bench',
  usage: `usage: npm run bench -- <${[...available, 'docs'].join('|')}> [args...]

  <name> [args...]   runs bench/<name>.ts (npm run bench -- <name> --help: its options), then
                     regenerates docs/benchmarks.md
  docs               only regenerates docs/benchmarks.md
  -h, --help         this text`,
};

if (name === '--help' || name === '-h') {
  console.log(TOOL.usage);
  process.exit(0);
}
if (!name) usageError(TOOL, 'which benchmark?');
if (name.startsWith('-')) usageError(TOOL, `Unknown option '${name}' (the benchmark's name comes first)`);
if (name !== 'docs' && !available.includes(name)) usageError(TOOL, `unknown benchmark "${name}"`);
let status = 0;
if (name !== 'docs') {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) throw new Error(`${file} is missing`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: 'inherit',
    cwd: resolve(here, '..'),
  });
  status = r.status ?? 1;
  // Its usage asked for (--help) or its command line refused (2): nothing ran, nothing to render.
  if (args.includes('--help') || args.includes('-h') || status === 2) process.exit(status);
  if (status !== 0) console.error(`bench ${name} exited with ${r.status ?? r.signal}`);
}
console.log(`wrote ${renderBenchmarksDoc()}`);
process.exit(status);
