/**
 * `./live up|down|status|logs`: the whole platform on one machine. `up` starts the real servers
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
import { cliArgs, usageError, type Tool } from '../platform/cli.ts';

const TOOL: Tool = {
  name: 'live',
  usage: `usage: ./live up [--wipe] | down [--wipe] | status | logs <service|server> [-n N] | test [...]

  up [--wipe]           start the servers and every service (--wipe: from empty data first)
  down [--wipe]         stop every service, then the servers (--wipe: delete their data)
  status                health of every server and service
  logs <name> [-n N]    the last N lines (default 100) of a service's or server's log
  test [...]            every check and test against real servers (./live test --help)
  -h, --help            this text`,
};

const root = REPO_ROOT;
const { positionals, values } = cliArgs(TOOL, {
  allowPositionals: true,
  options: { wipe: { type: 'boolean', default: false }, n: { type: 'string', short: 'n', default: '100' } },
});
const say = (m: string): void => console.log(`[live] ${m}`);
const report = { info: (m: string) => console.log(`[infra] ${m}`), warn: (m: string) => console.error(`[infra] ${m}`) };

const config = launcherConfig();
const servicesDir = join(config.dataDir, 'services');
const pidFile = (s: ServiceDef): string => join(servicesDir, `${s.name}.pid`);
const logFile = (s: ServiceDef): string => join(servicesDir, `${s.name}.log`);

async function healthy(s: ServiceDef): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${s.metricsPort}/healthz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function up(): Promise<void> {
  if (values.wipe) await down(true);
  await new Launcher(config, allServers, report).up();
  // Ingest, the media workers, the demo broadcast and the edge cache run Debian's ffmpeg and nginx.
  ensureDebianTools([DEBIAN_TOOLS.ffmpeg, DEBIAN_TOOLS.ffprobe, DEBIAN_TOOLS.nginx], report);
  const endpoints = endpointsOf(config);

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
  mkdirSync(servicesDir, { recursive: true });
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
  say(`Prometheus (metrics, firing alerts): http://${config.host}:${config.ports.prometheus}/alerts`);
}

async function down(wipe: boolean): Promise<void> {
  // Services first (they flush and commit), then the servers they depend on.
  for (const s of [...platformServices(endpointsOf(config))].reverse()) {
    say(`${s.name}: ${await stopProcess(pidFile(s), 20_000)}`);
  }
  await new Launcher(config, allServers, report).down({ wipe });
}

async function status(): Promise<number> {
  let ok = true;
  for (const r of await new Launcher(config, allServers, report).status()) {
    ok &&= r.healthy;
    console.log(`${r.name.padEnd(18)} ${r.healthy ? 'healthy' : 'DOWN'.padEnd(7)}  ${r.describe}`);
  }
  for (const s of platformServices(endpointsOf(config))) {
    const h = runningPid(pidFile(s)) !== undefined && (await healthy(s));
    ok &&= h;
    console.log(`${s.name.padEnd(18)} ${h ? 'healthy' : 'DOWN'.padEnd(7)}  ${s.url ?? ''}`);
  }
  return ok ? 0 : 1;
}

async function main(): Promise<number> {
  const [cmd, arg] = positionals;
  switch (cmd) {
    case 'up':
      await up();
      return 0;
    case 'down':
      await down(values.wipe ?? false);
      return 0;
    case 'status':
      return status();
    case 'logs': {
      if (!arg) usageError(TOOL, 'logs needs a service or server name');
      const s = platformServices(endpointsOf(config)).find((x) => x.name === arg);
      if (s) console.log(tail(logFile(s), Number(values.n)));
      else console.log(new Launcher(config, allServers, report).logTail(arg, Number(values.n)));
      return 0;
    }
    case 'help':
    case undefined:
      console.log(TOOL.usage);
      return 0;
    default:
      usageError(TOOL, `unknown command "${cmd}"`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[live] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
