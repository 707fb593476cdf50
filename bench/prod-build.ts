/**
 * The production build against tsx: every service `./live up` starts, run once from its TypeScript
 * through tsx (`node --import tsx <entry>`, as every service ran before the build) and once from
 * the build (`node --enable-source-maps dist/<service>.mjs`, compose/service-build.ts), on the
 * same servers, with the same environment as compose/services.ts but free ports, a random topic
 * prefix (consumer groups follow it), its own keyspaces, discovery alias, media and edge folders.
 *
 * A round starts the services one after another in `./live up`'s order, each timed from its spawn
 * to the first 200 from its /healthz (what `./live up` waits for: the port is up and the service
 * has caught up); when all are up, the demo broadcast is on air and transcoded, and after the
 * settle time each process's VmRSS is read from /proc (the Node process only: ffmpeg and nginx are
 * children of their own). Rounds alternate tsx, built, built, tsx, ... so that the machine's drift
 * (it is shared) falls on both; each figure is the mean over its rounds. Every round has its own
 * prefix and keyspaces: each pays the same topic and schema checks and keyspace creation.
 *
 *   The command line: `program`, below (npm run bench -- prod-build --help).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { integer, parse, tool } from '../platform/cli.ts';
import { Cassandra } from '../platform/cassandra.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { REPO_ROOT } from '../platform/paths.ts';
import { nodeBinary } from '../platform/runtime.ts';
import { subjectOf } from '../schemas/topics.ts';
import { builtCommand, ensureServiceBuild } from '../compose/service-build.ts';
import { platformServices, type ServiceDef } from '../compose/services.ts';
import { ensureWebBuild } from '../compose/web-build.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { freePort } from '../tests/support/ports.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

const program = tool({
  name: 'bench prod-build',
  command: 'npm run bench -- prod-build',
  description:
    'Every service ./live up starts, from its TypeScript through tsx against the production build: ' +
    'time to healthy and resident memory.',
  examples: ['npm run bench -- prod-build --rounds 2 --settle-s 20'],
})
  .option('--rounds <N>', 'rounds per way of running, alternating tsx and built', integer(1), 2)
  .option('--settle-s <S>', 'seconds after the last service is up before reading resident memory', integer(0), 20);
const { options: args } = parse(program);
const ROUNDS = args.rounds;
const SETTLE_S = args.settleS;
const HEALTHY_WITHIN_MS = 90_000;

type Mode = 'tsx' | 'built';
interface Sample {
  startMs: number;
  rssMiB: number;
}
interface Round {
  samples: Map<string, Sample>;
  /** Whether the demo broadcast was on air when memory was read. */
  publishing: boolean;
}

const e = endpoints();
const say = (m: string): void => console.log(`[prod-build] ${m}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/**
 * The services as compose/services.ts defines them, on free ports: every port a service listens on
 * (its `*_PORT` values and /metrics) gets a free one, and each URL naming one follows it.
 */
async function isolatedServices(names: {
  prefix: string;
  tag: string;
  dir: string;
}): Promise<{ services: ServiceDef[]; port: (old: number) => number }> {
  const base = platformServices({
    KAFKA_BROKERS: e.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: e.registryUrl,
    CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints.join(','),
    ELASTICSEARCH_URL: e.elasticsearchUrl,
  });
  const ports = new Map<string, string>();
  for (const s of base) {
    for (const [k, v] of [...Object.entries(s.env), ['METRICS_PORT', String(s.metricsPort)]]) {
      if (k!.endsWith('_PORT') && /^\d+$/.test(v!) && !ports.has(v!)) ports.set(v!, String(await freePort()));
    }
  }
  const port = (old: number): number => Number(ports.get(String(old)) ?? old);
  const moved = (v: string): string => v.replace(/(?<=^|:)(\d+)(?=$|\/|,)/g, (p) => ports.get(p) ?? p);
  const rtmp = `rtmp://127.0.0.1:${port(1935)}/live`;
  const shared = {
    LIVE_TOPIC_PREFIX: names.prefix,
    CHAT_KEYSPACE: `${names.tag}_chat`,
    FOLLOWS_KEYSPACE: `${names.tag}_follows`,
    NOTIFICATIONS_KEYSPACE: `${names.tag}_notifications`,
    NOTIFIER_KEYSPACE: `${names.tag}_notifier`,
    DISCOVERY_ALIAS: `${names.tag.replace(/_/g, '-')}-streams`,
    MEDIA_ROOT: join(names.dir, 'media'),
    EDGE_DIR: join(names.dir, 'edge'),
    DEMO_STATE_FILE: join(names.dir, 'demo-broadcast.json'),
    API_JWT_SECRET_FILE: join(names.dir, 'api-jwt.secret'),
    // What services.ts leaves to the defaults, which name the standard ports.
    INGEST_RTMP_URL: rtmp,
    DEMO_RTMP_URL: rtmp,
    WEBRTC_INGEST_RTMP_URL: rtmp,
    WEBRTC_INGEST_PULL_URL: rtmp,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port(8080)}`,
    CDN_BASE_URL: `http://127.0.0.1:${port(8088)}`,
    WS_BASE_URL: `ws://127.0.0.1:${port(8090)}`,
    VIEWER_WS_BASE_URL: `ws://127.0.0.1:${port(8091)}`,
    NOTIFY_BASE_URL: `http://127.0.0.1:${port(8092)}`,
  };
  const services = base.map((s) => ({
    ...s,
    metricsPort: port(s.metricsPort),
    env: {
      ...Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, /_(PORT|URLS?)$/.test(k) ? moved(v) : v])),
      ...shared,
    },
  }));
  return { services, port };
}

function start(s: ServiceDef, mode: Mode, logFile: string): ChildProcess {
  const argv = mode === 'tsx' ? ['--import', 'tsx', s.entry] : builtCommand(s.name);
  const out = openSync(logFile, 'a');
  // Its own process group: stopping it stops what it forked (nginx, ffmpeg) with it.
  const child = spawn(nodeBinary(s.runtime), argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...s.env },
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const killed = sleep(20_000).then(() => signal('SIGKILL'));
  await Promise.race([exited, killed]);
  await exited;
}

async function cleanUp(prefix: string, tag: string, services: ServiceDef[]): Promise<void> {
  const env = services[0]!.env;
  const bus = new EventBus(
    { brokers: e.kafkaBrokers, registryUrl: e.registryUrl, clientId: 'bench-prod-build', topicPrefix: prefix },
    new Metrics('bench', { defaults: false }),
    createLogger('bench', 'warn'),
  );
  const topics = await bus.withAdmin(async (admin) => {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.deleteTopics(mine).catch(() => undefined);
    const groups = (await admin.listGroups()).filter((g) => g.startsWith(prefix));
    await admin.deleteGroups(groups).catch(() => undefined);
    return mine;
  });
  for (const t of topics) {
    const subject = `${e.registryUrl}/subjects/${encodeURIComponent(subjectOf(t))}`;
    for (const q of ['', '?permanent=true']) await fetch(`${subject}${q}`, { method: 'DELETE' }).catch(() => undefined);
  }
  const db = new Cassandra({
    CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints,
    CASSANDRA_LOCAL_DC: 'datacenter1',
    CASSANDRA_REQUEST_TIMEOUT_MS: 20_000,
  });
  for (const ks of ['chat', 'follows', 'notifications', 'notifier'])
    await db.ddl(`DROP KEYSPACE IF EXISTS ${tag}_${ks}`).catch(() => undefined);
  await db.shutdown();
  const indices = (await fetch(`${e.elasticsearchUrl}/_cat/indices/${env.DISCOVERY_ALIAS}*?format=json`)
    .then((r) => r.json())
    .catch(() => [])) as Array<{ index: string }>;
  for (const { index } of indices) await fetch(`${e.elasticsearchUrl}/${index}`, { method: 'DELETE' });
}

async function round(mode: Mode, n: number): Promise<Round> {
  const tag = `bench_pb_${randomBytes(3).toString('hex')}`;
  const prefix = `${tag}.`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-prod-build-'));
  const { services } = await isolatedServices({ prefix, tag, dir });
  const bus = new EventBus(
    { brokers: e.kafkaBrokers, registryUrl: e.registryUrl, clientId: 'bench-prod-build', topicPrefix: prefix },
    new Metrics('bench', { defaults: false }),
    createLogger('bench', 'warn'),
  );
  // As `./live up` does before it starts anything.
  await bus.init();
  const running: Array<{ s: ServiceDef; child: ChildProcess; startMs: number }> = [];
  try {
    for (const s of services) {
      const log = join(dir, `${s.name}.log`);
      const t0 = performance.now();
      const child = start(s, mode, log);
      const until = Date.now() + HEALTHY_WITHIN_MS;
      while (!(await healthy(s.metricsPort))) {
        if (child.exitCode !== null || Date.now() > until) {
          const lines = readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
          throw new Error(`${s.name} (${mode}) did not become healthy:\n${lines}`);
        }
        await sleep(25);
      }
      const startMs = Math.round(performance.now() - t0);
      running.push({ s, child, startMs });
      say(`round ${n} (${mode}): ${s.name} healthy after ${startMs} ms`);
    }
    await sleep(SETTLE_S * 1000);
    const samples = new Map<string, Sample>();
    for (const r of running) samples.set(r.s.name, { startMs: r.startMs, rssMiB: mib(rssKiB(r.child.pid!)) });
    const demo = services.find((s) => s.name === 'demo-broadcast')!;
    const publishing = await fetch(`http://127.0.0.1:${demo.metricsPort}/healthz`)
      .then((r) => r.json() as Promise<{ detail?: { publishing?: boolean } }>)
      .then((h) => h.detail?.publishing === true)
      .catch(() => false);
    say(
      `round ${n} (${mode}): ${[...samples].map(([k, v]) => `${k} ${v.rssMiB} MiB`).join(', ')}; demo publishing: ${publishing}; load ${loadavg()[0]!.toFixed(2)}`,
    );
    return { samples, publishing };
  } finally {
    await Promise.all(running.map((r) => stop(r.child)));
    await cleanUp(prefix, tag, services).catch((err: unknown) => say(`clean-up of ${tag}: ${String(err)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (xs: number[]): number => Math.round((xs.reduce((a, x) => a + x, 0) / xs.length) * 10) / 10;
const fmt = (xs: Array<number | boolean>): string => xs.join(', ');

async function main(): Promise<void> {
  const report = { info: say, warn: say };
  ensureWebBuild(report);
  await ensureServiceBuild(platformServices({}), report);
  const order: Mode[] = Array.from({ length: ROUNDS * 2 }, (_, i) => (i % 4 === 0 || i % 4 === 3 ? 'tsx' : 'built'));
  const rounds: Record<Mode, Round[]> = { tsx: [], built: [] };
  const loads: string[] = [];
  for (const [i, mode] of order.entries()) {
    rounds[mode].push(await round(mode, i + 1));
    loads.push(loadavg()[0]!.toFixed(1));
  }

  const names = platformServices({}).map((s) => s.name);
  const of = (mode: Mode, name: string, what: keyof Sample): number[] =>
    rounds[mode].map((r) => r.samples.get(name)![what]);
  const sumOf = (mode: Mode, what: keyof Sample): number[] =>
    rounds[mode].map((r) => Math.round([...r.samples.values()].reduce((a, s) => a + s[what], 0) * 10) / 10);
  const row = (name: string, what: keyof Sample, label: string, unit: string): Metric => {
    const ours = of('built', name, what);
    const peer = of('tsx', name, what);
    return {
      metric: `${name}: ${label}`,
      value: mean(ours),
      unit,
      peer: { name: 'the same service under tsx', value: mean(peer) },
      ratio: ratio(mean(ours), mean(peer)),
      target: 'report only (the issue sets no figure)',
      meetsTarget: null,
      notes: `built: ${fmt(ours)}; tsx: ${fmt(peer)}`,
    };
  };
  const extra: Metric[] = [];
  const startSum = { built: sumOf('built', 'startMs'), tsx: sumOf('tsx', 'startMs') };
  extra.push({
    metric: `all ${names.length} services started one after another: sum of spawn-to-healthy`,
    value: mean(startSum.built),
    unit: 'ms',
    peer: { name: 'the same services under tsx', value: mean(startSum.tsx) },
    ratio: ratio(mean(startSum.built), mean(startSum.tsx)),
    target: 'report only (the issue sets no figure)',
    meetsTarget: null,
    notes: `built: ${fmt(startSum.built)}; tsx: ${fmt(startSum.tsx)}`,
  });
  for (const name of names) extra.push(row(name, 'startMs', 'spawn to healthy', 'ms'));
  for (const name of names) extra.push(row(name, 'rssMiB', `resident memory ${SETTLE_S} s after all are up`, 'MiB'));

  const rss = { built: sumOf('built', 'rssMiB'), tsx: sumOf('tsx', 'rssMiB') };
  const file = writeResult('prod-build', {
    metric: `resident memory of all ${names.length} service processes, demo broadcast on air`,
    value: mean(rss.built),
    unit: 'MiB',
    peer: { name: 'the same services under tsx', value: mean(rss.tsx) },
    ratio: ratio(mean(rss.built), mean(rss.tsx)),
    target: 'report only (the issue sets no figure)',
    meetsTarget: null,
    command: `npm run bench -- prod-build --rounds ${ROUNDS} --settle-s ${SETTLE_S}`,
    notes: [
      `Every service of compose/services.ts, started one after another in \`./live up\`'s order against the shared`,
      `Kafka, registry, Cassandra and Elasticsearch (random topic prefix, own keyspaces, alias and folders, free ports):`,
      `built = \`node --enable-source-maps dist/<service>.mjs\` (esbuild bundle, packages external), tsx =`,
      `\`node --import tsx <entry>\`; the WebRTC gateway on Node 24, the rest on ${process.version}. Start = spawn to`,
      `the first 200 from /healthz (polled every 25 ms); memory = VmRSS of the Node process ${SETTLE_S} s after the`,
      `last service was up, the demo broadcast publishing and transcoded meanwhile (on air at the reading: built`,
      `${fmt(rounds.built.map((r) => r.publishing))}; tsx ${fmt(rounds.tsx.map((r) => r.publishing))}). ${ROUNDS} round(s) each, alternating`,
      `(${order.join(', ')}); means. Per round totals: built ${fmt(rss.built)} MiB, tsx ${fmt(rss.tsx)} MiB.`,
      `1-minute load average after each round: ${loads.join(', ')} (the machine is shared).`,
    ].join(' '),
    extra,
  });
  say(`wrote ${file}`);
}

await main();
process.exit(0);
