/**
 * `npm test`: static checks, then every spec against real servers.
 *
 * Servers, in order of preference:
 *   1. endpoints already given in the environment (KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 *      CASSANDRA_CONTACT_POINTS, ELASTICSEARCH_URL): used as they are;
 *   2. a Docker engine that answers: testcontainers (tests/support/containers.ts);
 *   3. otherwise the local launcher (compose/launcher), the same one `./live up` uses.
 * The servers are left running afterwards (a second run reuses them in seconds);
 * `npm run infra -- down` stops them.
 * The options are in `program` (and `npm test -- --help`).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { endpointsOf, launcherConfig } from '../compose/launcher/config.ts';
import { DEBIAN_TOOLS, ensureDebianTools } from '../platform/debian.ts';
import { brokerAdmin } from '../platform/kafka/admin.ts';
import { Launcher } from '../compose/launcher/launcher.ts';
import { dataServers } from '../compose/launcher/servers/index.ts';
import { ensureWebBuild } from '../compose/web-build.ts';
import { REPO_ROOT } from '../platform/paths.ts';
import { run as runTool, tool } from '../platform/cli.ts';

const root = REPO_ROOT;

function step(title: string): void {
  console.log(`\n=== ${title}`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  return r.status ?? 1;
}

/** Like `run`, but also keeps the output's tail (the runner's totals are read from it). */
function runTee(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env });
    let tailText = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      tailText = (tailText + chunk.toString()).slice(-20_000);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output: tailText }));
  });
}

function specFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'scratch') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.spec.ts')) out.push(relative(root, p));
    }
  };
  // Every top-level folder that holds code: specs live beside it.
  const folders = ['schemas', 'platform', 'domain', 'producers', 'processors', 'sinks', 'gateways', 'media', 'tools'];
  for (const d of [...folders, 'compose', 'tests', 'bench', 'scripts']) {
    try {
      walk(join(root, d));
    } catch {
      /* folder absent */
    }
  }
  // Unit specs first: they fail fast and need no server.
  return out.sort((a, b) => Number(!a.includes('.unit.')) - Number(!b.includes('.unit.')) || a.localeCompare(b));
}

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function serverEnv(): Promise<NodeJS.ProcessEnv> {
  const names = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'CASSANDRA_CONTACT_POINTS', 'ELASTICSEARCH_URL'];
  if (names.every((n) => process.env[n])) {
    console.log('using servers from the environment');
    return process.env;
  }
  if (process.env.LIVE_TEST_SERVERS !== 'local' && dockerAnswers()) {
    console.log('Docker answers: starting servers with testcontainers');
    const { startContainers } = await import('../tests/support/containers.ts');
    return { ...process.env, ...(await startContainers()) };
  }
  console.log('no Docker engine: starting servers with the local launcher');
  const config = launcherConfig();
  const report = {
    info: (m: string) => console.log(`[infra] ${m}`),
    warn: (m: string) => console.error(`[infra] ${m}`),
  };
  // Prometheus only watches: no spec needs it (its own spec starts one on a free port).
  await new Launcher(config, dataServers, report).up();
  // The launcher's Kafka, Cassandra and registry serve Prometheus text: its spec may scrape them.
  return { ...process.env, ...endpointsOf(config), LIVE_TEST_SERVER_METRICS: '1' };
}

/**
 * Specs name their topics t_<label>_<base36 time>_<random>: earlier runs' leftovers go, so the
 * broker does not accumulate thousands of partitions across runs.
 */
async function dropTestTopics(brokers: string): Promise<void> {
  const admin = brokerAdmin(brokers.split(','), 'test-runner');
  try {
    // Only topics over 30 minutes old: a spec running elsewhere right now keeps its own.
    const stale = (await admin.listTopics()).filter((t) => {
      const m = /^t_.*_([0-9a-z]+)_[0-9a-f]{6}\./.exec(t);
      return m !== null && Date.now() - parseInt(m[1]!, 36) > 30 * 60_000;
    });
    if (stale.length) {
      await admin.deleteTopics(stale);
      console.log(`dropped ${stale.length} topics left by earlier test runs`);
    }
  } finally {
    await admin.close();
  }
}

async function main(options: { check: boolean; unit?: boolean; only?: string }): Promise<number> {
  if (options.check) {
    step('static checks (codegen, tsc, eslint, prettier)');
    for (const [cmd, args] of [
      ['npx', ['tsx', 'schemas/codegen.ts', '--check']],
      ['npx', ['tsc', '--noEmit', '-p', '.']],
      ['npx', ['tsc', '--noEmit', '-p', 'web']],
      ['npx', ['eslint', '--max-warnings', '0', '.']],
      ['npx', ['prettier', '--check', '--log-level', 'warn', '.']],
    ] as const) {
      if (run(cmd, [...args]) !== 0) {
        console.error(`check failed: ${cmd} ${args.join(' ')}`);
        return 1;
      }
    }
  }
  const files = specFiles()
    .filter((f) => !options.unit || f.includes('.unit.'))
    .filter((f) => !options.only || f.includes(options.only));
  if (!files.length) {
    console.error('no spec files found');
    return 1;
  }
  let env = process.env;
  if (!files.every((f) => f.includes('.unit.'))) {
    step('servers');
    // The API serves the web page; the browser specs need it built.
    ensureWebBuild({ info: (m) => console.log(`[web] ${m}`), warn: (m) => console.error(`[web] ${m}`) });
    // Media specs run real ffmpeg/ffprobe and the edge's nginx: Debian's, installed once per machine.
    ensureDebianTools([DEBIAN_TOOLS.ffmpeg, DEBIAN_TOOLS.ffprobe, DEBIAN_TOOLS.nginx], {
      info: (m) => console.log(`[tools] ${m}`),
      warn: (m) => console.error(`[tools] ${m}`),
    });
    env = await serverEnv();
    await dropTestTopics(env.KAFKA_BROKERS!);
  }
  step(`${files.length} spec files`);
  const { code, output } = await runTee(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      // A failed spec can leave a client connected; exit anyway once the tests are done, and
      // turn a hung test into a failure instead of a CI run that never ends.
      '--test-force-exit',
      '--test-timeout=300000',
      '--test-reporter=spec',
      ...files,
    ],
    env,
  );
  // One plain closing line that any CI reads, from the runner's own totals.
  const count = (k: string): number => Number(new RegExp(`^ℹ ${k} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
  console.log(
    `\ntests: ${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped`,
  );
  return code;
}

const program = tool({
  name: 'test',
  command: 'npm test --',
  description:
    'Static checks (codegen, tsc, eslint, prettier), then every spec against real servers: those the ' +
    'environment names, or testcontainers when Docker answers, or the local launcher (left running).',
  examples: [
    'npm test',
    'npm test -- --unit                     # only the unit specs: no servers needed',
    'npm test -- --no-check --only tools/   # the specs under tools/, without the static checks',
    './live test --only replay',
  ],
})
  .option('--no-check', 'skip the tsc/eslint/prettier/codegen checks')
  .option('--unit', 'only the unit specs (*.unit.spec.ts): no servers needed')
  .option('--only <text>', 'only the spec files whose path contains <text>')
  .action(async (options) => {
    process.exitCode = await main(options);
  });

await runTool(program);
