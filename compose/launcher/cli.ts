#!/usr/bin/env node
/** `npm run infra -- up|down|status|logs|env`: the real servers on one machine, without Docker; its commands are in TOOL.usage. */
import { cliArgs, usageError, type Tool } from '../../platform/cli.ts';
import { endpointsOf, launcherConfig } from './config.ts';
import { Launcher } from './launcher.ts';
import { allServers } from './servers/index.ts';

const TOOL: Tool = {
  name: 'infra',
  usage: `usage: npm run infra -- up [--wipe] [--only a,b] | down [--wipe] | status | logs <server> [-n N] | env

  up [--wipe] [--only kafka,registry,...]   fetch (cached), configure, start, wait for real health
  down [--wipe]                            stop cleanly (SIGTERM, then SIGKILL after a deadline)
  status                                   pid and a live health probe per server
  logs <server> [-n 100]                   tail a server's log
  env                                      the endpoints as shell exports
  -h, --help                               this text`,
};

const { positionals, values } = cliArgs(TOOL, {
  allowPositionals: true,
  options: {
    wipe: { type: 'boolean', default: false },
    only: { type: 'string' },
    n: { type: 'string', short: 'n', default: '100' },
  },
});

const report = {
  info: (m: string) => console.log(`[infra] ${m}`),
  warn: (m: string) => console.error(`[infra] WARN ${m}`),
};

async function main(): Promise<number> {
  const config = launcherConfig();
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !allServers.some((s) => s.name === n)) ?? [];
  if (unknown.length)
    usageError(TOOL, `unknown server(s): ${unknown.join(', ')}; servers: ${allServers.map((s) => s.name).join(', ')}`);
  const servers = only ? allServers.filter((s) => only.includes(s.name)) : allServers;
  const launcher = new Launcher(config, servers, report);
  const [cmd, arg] = positionals;
  switch (cmd) {
    case 'up': {
      if (values.wipe) await launcher.down({ wipe: true });
      const t0 = Date.now();
      await launcher.up();
      report.info(`all healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      for (const [k, v] of Object.entries(endpointsOf(config))) report.info(`${k}=${v}`);
      return 0;
    }
    case 'down':
      await launcher.down({ wipe: values.wipe ?? false });
      return 0;
    case 'status': {
      const rows = await launcher.status();
      for (const r of rows) {
        console.log(
          `${r.name.padEnd(14)} ${r.pid ? `pid ${r.pid}`.padEnd(12) : 'stopped'.padEnd(12)} ${r.healthy ? 'healthy' : 'DOWN'}   ${r.describe}`,
        );
      }
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    case 'logs':
      if (!arg) usageError(TOOL, 'logs needs a server name');
      console.log(launcher.logTail(arg, Number(values.n)));
      return 0;
    case 'env':
      for (const [k, v] of Object.entries(endpointsOf(config))) console.log(`export ${k}=${v}`);
      return 0;
    default:
      usageError(TOOL, cmd ? `unknown command "${cmd}"` : 'which command?');
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[infra] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
