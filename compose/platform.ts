/**
 * `./live up|down|status|logs` (its commands: `program`, and `--help`): the whole platform on one machine. `up` starts the real servers
 * (compose/launcher; Prometheus among them, scraping every service below), creates the topics and registers the schemas, then starts every service as
 * a detached process with its own log and pid file, and waits for each one's /healthz. The services
 * run from the production build (dist/, rebuilt first when a source changed), not through tsx.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { endpointsOf, launcherConfig } from './launcher/config.ts';
import { DEBIAN_TOOLS, ensureDebianTools } from '../platform/debian.ts';
import { Launcher } from './launcher/launcher.ts';
import { runningPid, startDetached, stopProcess, tail } from './launcher/proc.ts';
import { allServers } from './launcher/servers/index.ts';
import { nodeBinary } from '../platform/runtime.ts';
import { platformServices, type ServiceDef } from './services.ts';
import { builtCommand, ensureServiceBuild } from './service-build.ts';
import { ensureWebBuild } from './web-build.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { REPO_ROOT } from '../platform/paths.ts';
import { integer, lazy, run, tool, usageError } from '../platform/cli.ts';

const root = REPO_ROOT;
const say = (m: string): void => console.log(`[live] ${m}`);
const report = { info: (m: string) => console.log(`[infra] ${m}`), warn: (m: string) => console.error(`[infra] ${m}`) };

const config = lazy(() => launcherConfig());
const servicesDir = (): string => join(config().dataDir, 'services');
const pidFile = (s: ServiceDef): string => join(servicesDir(), `${s.name}.pid`);
const logFile = (s: ServiceDef): string => join(servicesDir(), `${s.name}.log`);

async function healthy(s: ServiceDef): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${s.metricsPort}/healthz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function up(wipe: boolean): Promise<void> {
  if (wipe) await down(true);
  await new Launcher(config(), allServers, report).up();
  // Ingest, the media workers, the demo broadcast and the edge cache run Debian's ffmpeg and nginx.
  ensureDebianTools([DEBIAN_TOOLS.ffmpeg, DEBIAN_TOOLS.ffprobe, DEBIAN_TOOLS.nginx], report);
  const endpoints = endpointsOf(config());

  say('creating topics and registering schemas');
  const bus = new EventBus(
    {
      brokers: endpoints.KAFKA_BROKERS!.split(','),
      registryUrl: endpoints.SCHEMA_REGISTRY_URL!,
      clientId: 'platform-up',
      topicPrefix: '',
    },
    new Metrics('platform-up', { defaults: false }),
    createLogger('platform-up', 'warn'),
  );
  await bus.init();

  // The API serves the web page from web/dist.
  ensureWebBuild(report);
  const services = platformServices(endpoints);
  await ensureServiceBuild(services, report);
  mkdirSync(servicesDir(), { recursive: true });
  for (const s of services) {
    if (runningPid(pidFile(s)) !== undefined && (await healthy(s))) {
      say(`${s.name}: already running`);
      continue;
    }
    await stopProcess(pidFile(s), 5000);
    const pid = startDetached(
      { cmd: nodeBinary(s.runtime), args: builtCommand(s.name), env: s.env, cwd: root },
      logFile(s),
      pidFile(s),
    );
    say(`${s.name}: started (pid ${pid}), log ${logFile(s)}`);
  }
  for (const s of services) {
    const until = Date.now() + 60_000;
    while (!(await healthy(s))) {
      if (runningPid(pidFile(s)) === undefined || Date.now() > until) {
        throw new Error(`${s.name} did not become healthy. Last log lines:\n${tail(logFile(s), 30)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    say(`${s.name}: healthy${s.url ? ` at ${s.url}` : ''}`);
  }
  say('platform is up');
  for (const [k, v] of Object.entries(endpoints)) say(`${k}=${v}`);
  say(`Prometheus (metrics, firing alerts): http://${config().host}:${config().ports.prometheus}/alerts`);
}

async function down(wipe: boolean, servicesOnly = false): Promise<void> {
  // Services first (they flush and commit), then the servers they depend on.
  for (const s of [...platformServices(endpointsOf(config()))].reverse()) {
    say(`${s.name}: ${await stopProcess(pidFile(s), 20_000)}`);
  }
  if (!servicesOnly) await new Launcher(config(), allServers, report).down({ wipe });
}

async function status(): Promise<number> {
  let ok = true;
  for (const r of await new Launcher(config(), allServers, report).status()) {
    ok &&= r.healthy;
    console.log(`${r.name.padEnd(18)} ${r.healthy ? 'healthy' : 'DOWN'.padEnd(7)}  ${r.describe}`);
  }
  for (const s of platformServices(endpointsOf(config()))) {
    const h = runningPid(pidFile(s)) !== undefined && (await healthy(s));
    ok &&= h;
    console.log(`${s.name.padEnd(18)} ${h ? 'healthy' : 'DOWN'.padEnd(7)}  ${s.url ?? ''}`);
  }
  return ok ? 0 : 1;
}

const program = tool({
  name: 'live',
  command: './live',
  description:
    'The whole platform on this machine: the real servers (Kafka, the schema registry, Cassandra, ' +
    'Elasticsearch, Prometheus), then every service from the production build, each with its log. ' +
    '`./live test` runs every check and test against real servers (scripts/test.ts; ./live test --help).',
  examples: [
    './live up',
    './live up --wipe          # from empty data',
    './live status',
    './live logs kafka',
    './live logs api -n 500',
    './live down',
    './live down --wipe        # and delete all data under .data/',
    './live down --services    # stop the services, keep the servers',
    './live test --help        # every check and test against real servers',
  ],
});

program
  .command('up')
  .description('start the servers and every service, and wait until each is healthy')
  .option('--wipe', 'from empty data: stop everything and delete its data first')
  .action(async (opts) => {
    await up(opts.wipe ?? false);
  });

program
  .command('down')
  .description('stop every service, then the servers')
  .option('--wipe', 'delete their data too')
  .option('--services', 'stop the services only; the servers keep running (and their data)')
  .action(async (opts, cmd) => {
    if (opts.wipe && opts.services) usageError(cmd, '--wipe deletes the servers’ data: it cannot go with --services');
    await down(opts.wipe ?? false, opts.services ?? false);
  });

program
  .command('status')
  .description('health of every server and service; exit 1 when one is down')
  .action(async () => {
    process.exitCode = await status();
  });

program
  .command('logs')
  .argument('<name>', 'a service or a server (kafka, registry, cassandra, elasticsearch, ...)')
  .description("the end of a service's or server's log")
  .option('-n, --lines <N>', 'how many lines', integer(1), 100)
  .action((name, opts) => {
    const s = platformServices(endpointsOf(config())).find((x) => x.name === name);
    if (s) console.log(tail(logFile(s), opts.lines));
    else console.log(new Launcher(config(), allServers, report).logTail(name, opts.lines));
  });

await run(program);
