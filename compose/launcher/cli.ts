#!/usr/bin/env node
/** `npm run infra -- <command>`: the real servers on one machine, without Docker; its commands are in `program`, and `--help`. */
import { Argument, InvalidArgumentError, type Command, type OptionValues } from '@commander-js/extra-typings';
import { integer, list, run, tool } from '../../platform/cli.ts';
import { endpointsOf, launcherConfig } from './config.ts';
import { Launcher } from './launcher.ts';
import { allServers } from './servers/index.ts';

const names: string[] = allServers.map((s) => s.name);

function serverName(name: string): string {
  if (!names.includes(name)) throw new InvalidArgumentError(`no server "${name}"; servers: ${names.join(', ')}`);
  return name;
}

/** `--only kafka,registry`: the servers a command is about (default all). */
function only<Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) {
  return cmd.option('--only <names>', `only these servers, comma-separated: ${names.join(', ')}`, list(serverName));
}

const report = {
  info: (m: string) => console.log(`[infra] ${m}`),
  warn: (m: string) => console.error(`[infra] WARN ${m}`),
};

function launcher(onlyNames?: string[]): Launcher {
  const servers = onlyNames ? allServers.filter((s) => onlyNames.includes(s.name)) : allServers;
  return new Launcher(launcherConfig(), servers, report);
}

const program = tool({
  name: 'infra',
  command: 'npm run infra --',
  description:
    "The platform's servers (Kafka, the schema registry, Cassandra, Elasticsearch, Prometheus) on this " +
    'machine, without Docker: fetched once (cached), configured, started and probed for real health.',
  examples: [
    'npm run infra -- up',
    'npm run infra -- up --only prometheus',
    'npm run infra -- up --wipe --only kafka,registry',
    'npm run infra -- status',
    'npm run infra -- logs kafka -n 50',
    'npm run infra -- down',
    'eval "$(npm run -s infra -- env)"',
  ],
});

only(program.command('up'))
  .description('fetch (cached), configure, start, wait for real health')
  .option('--wipe', "delete the servers' data first")
  .action(async (opts) => {
    const l = launcher(opts.only);
    if (opts.wipe) await l.down({ wipe: true });
    const t0 = Date.now();
    await l.up();
    report.info(`all healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const [k, v] of Object.entries(endpointsOf(launcherConfig()))) report.info(`${k}=${v}`);
  });

only(program.command('down'))
  .description('stop cleanly (SIGTERM, then SIGKILL after a deadline)')
  .option('--wipe', 'delete their data too')
  .action(async (opts) => {
    await launcher(opts.only).down({ wipe: opts.wipe ?? false });
  });

only(program.command('status'))
  .description('pid and a live health probe per server; exit 1 when one is down')
  .action(async (opts) => {
    const rows = await launcher(opts.only).status();
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(14)} ${r.pid ? `pid ${r.pid}`.padEnd(12) : 'stopped'.padEnd(12)} ${r.healthy ? 'healthy' : 'DOWN'}   ${r.describe}`,
      );
    }
    if (!rows.every((r) => r.healthy)) process.exitCode = 1;
  });

program
  .command('logs')
  .description("the end of a server's log")
  .addArgument(new Argument('<server>', 'the server').choices(names))
  .option('-n, --lines <N>', 'how many lines', integer(1), 100)
  .action((server, opts) => {
    console.log(launcher().logTail(server, opts.lines));
  });

program
  .command('env')
  .description('the endpoints as shell exports')
  .action(() => {
    for (const [k, v] of Object.entries(endpointsOf(launcherConfig()))) console.log(`export ${k}=${v}`);
  });

await run(program);
