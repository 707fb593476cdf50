import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Argument } from '@commander-js/extra-typings';
import { USAGE, run, tool } from '../platform/cli.ts';
import { renderBenchmarksDoc } from './lib/results.ts';

/**
 * `npm run bench -- <name> [args...]` runs bench/<name>.ts in its own Node process (so its memory
 * figures are its own), then regenerates docs/benchmarks.md from bench/results/*.json.
 * `npm run bench -- docs` only regenerates the document.
 */
const here = import.meta.dirname;
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));

const program = tool({
  name: 'bench',
  command: 'npm run bench --',
  description:
    'Runs bench/<name>.ts in its own Node process (its memory figures its own), then regenerates ' +
    'docs/benchmarks.md from bench/results/*.json; `docs` only regenerates the document.',
  examples: [
    "npm run bench -- chat --help                             # a benchmark's own options",
    'npm run bench -- follows',
    'npm run bench -- transcode --seconds 20 --preset veryfast --rounds 2',
    'npm run bench -- docs',
  ],
})
  .addArgument(new Argument('<name>', 'the benchmark, or docs').choices([...available, 'docs']))
  .argument('[args...]', "the benchmark's own options (npm run bench -- <name> --help)")
  // Everything after the name is the benchmark's, --help included.
  .passThroughOptions()
  .action((name, args) => {
    if (name !== 'docs') {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...args], {
        stdio: 'inherit',
        cwd: resolve(here, '..'),
      });
      process.exitCode = r.status ?? 1;
      // Its usage asked for (--help) or its command line refused (2): nothing ran, nothing to render.
      if (args.includes('--help') || args.includes('-h') || r.status === USAGE) return;
      if (r.status !== 0) console.error(`bench ${name} exited with ${r.status ?? r.signal}`);
    }
    console.log(`wrote ${renderBenchmarksDoc()}`);
  });

await run(program);
