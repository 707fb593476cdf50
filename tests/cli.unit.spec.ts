/**
 * Every command-line tool, run as its user runs it (a fresh process, no servers):
 *  - `--help` prints its usage, its options and examples to stdout and exits 0;
 *  - an unknown option, and a bad value, print `<tool>: <what is wrong>`, the usage line and where
 *    the rest is to stderr and exit 2;
 *  - every example its help shows, and every command line the README and docs/ show, parses
 *    (LIVE_CLI_PARSE_ONLY: the tool prints what it understood and runs nothing).
 * No output ever holds a stack trace. The tools run a few at a time: the machine's cores are shared.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { mapLimit } from '../platform/concurrency.ts';
import {
  assertNoStackTrace,
  assertUsageError,
  benchmarks,
  documentedCommands,
  helpExamples,
  runTool,
  toolOf,
  type ToolRun,
} from './support/cli.ts';

interface Cli {
  file: string;
  /** How its error lines start. */
  name: string;
  /** Its usage line, after `Usage: `, up to its arguments. */
  usage: string;
  /** A value it refuses, and what it says about it. */
  badValue: { args: string[]; message: RegExp };
}

const BENCHES = benchmarks();

/** A bad value for each benchmark: an option every one has would do, but they differ. */
const BENCH_BAD_VALUE: Record<string, string[]> = {
  chat: ['--rates', '1000,x'],
  discovery: ['--live-share', '2'],
  edge: ['--renditions', '5'],
  'event-bus': ['--events', '0'],
  follows: ['--followers', 'many'],
  glass: ['--tiers', 'standard,nope'],
  latency: ['--seconds', '-5'],
  'prod-build': ['--rounds', '1.5'],
  replay: ['--follows', '-1'],
  'transcode-gpu': ['--sessions', '1,,2'],
  transcode: ['--rounds', '0'],
  viewers: ['--viewers', 'x'],
  'webrtc-first-frame': ['--joins', '0'],
  'webrtc-viewers': ['--seconds', '0'],
};

const CLIS: Cli[] = [
  {
    file: 'compose/platform.ts',
    name: 'live',
    usage: './live ',
    badValue: { args: ['logs', 'kafka', '-n', 'ten'], message: /'-n, --lines <N>' argument 'ten' is invalid/ },
  },
  {
    file: 'compose/launcher/cli.ts',
    name: 'infra',
    usage: 'npm run infra -- ',
    badValue: { args: ['up', '--only', 'kafka,kafak'], message: /no server "kafak"; servers: kafka, registry/ },
  },
  {
    file: 'compose/build.ts',
    name: 'build',
    usage: 'npm run build -- ',
    badValue: { args: ['dist'], message: /too many arguments/ },
  },
  {
    file: 'scripts/test.ts',
    name: 'test',
    usage: 'npm test -- ',
    badValue: { args: ['--only'], message: /option '--only <text>' argument missing/ },
  },
  {
    file: 'tools/topics/cli.ts',
    name: 'topics',
    usage: 'npm run topics -- ',
    badValue: {
      args: ['tail', 'live.stream.lifecycle', '--from', 'yesterday'],
      message: /option '--from <T>' argument 'yesterday' is invalid/,
    },
  },
  {
    file: 'tools/dlq/cli.ts',
    name: 'dlq',
    usage: 'npm run dlq -- ',
    badValue: {
      args: ['list', 'no.such.topic'],
      message: /"no.such.topic" is not a platform topic; known: .*live\.chat\.messages/,
    },
  },
  {
    file: 'tools/ksql/cli.ts',
    name: 'ksql',
    usage: 'npm run ksql -- ',
    badValue: {
      args: ['top-streams', '--day', '2026-13-45'],
      message: /'2026-13-45' is invalid\. expected a day, YYYY-MM-DD/,
    },
  },
  {
    file: 'tools/replay/cli.ts',
    name: 'replay',
    usage: 'npm run replay -- ',
    badValue: { args: ['discovery', '--as-of', '2999-01-01T00:00:00Z'], message: /is in the future/ },
  },
  {
    file: 'gateways/api/token.ts',
    name: 'token',
    usage: 'npm run token -- ',
    badValue: {
      args: ['--user', 'u', '--name', 'n', '--ttl', '0'],
      message: /'--ttl <seconds>' argument '0' is invalid/,
    },
  },
  {
    file: 'bench/run.ts',
    name: 'bench',
    usage: 'npm run bench -- ',
    badValue: { args: ['frob'], message: /'frob' is invalid for argument 'name'\. Allowed choices are chat, / },
  },
  ...BENCHES.map((b) => ({
    file: `bench/${b}.ts`,
    name: `bench ${b}`,
    usage: `npm run bench -- ${b} `,
    badValue: { args: BENCH_BAD_VALUE[b] ?? [], message: /argument .* is invalid/ },
  })),
];

const PARALLEL = Math.max(2, Math.min(4, availableParallelism()));

interface Case {
  cli: Cli;
  kind: 'help' | 'bad option' | 'bad value';
  args: string[];
}
const cases: Case[] = CLIS.flatMap((cli) => [
  { cli, kind: 'help' as const, args: ['--help'] },
  { cli, kind: 'bad option' as const, args: ['--no-such-flag'] },
  { cli, kind: 'bad value' as const, args: cli.badValue.args },
]);

let all: Promise<ToolRun[]> | undefined;
const results = (): Promise<ToolRun[]> => (all ??= mapLimit(cases, PARALLEL, (c) => runTool(c.cli.file, c.args)));

describe('command-line tools answer --help and mistakes with their usage, never a stack trace', () => {
  it('covers every benchmark with a bad value', () => {
    assert.deepEqual(
      BENCHES.filter((b) => !BENCH_BAD_VALUE[b]),
      [],
    );
  });

  cases.forEach((c, i) => {
    const what = `${c.cli.file} ${c.args.join(' ')}`;
    it(`${c.cli.name}: ${c.kind} (${c.args.join(' ')})`, async () => {
      const r = (await results())[i]!;
      if (c.kind === 'help') {
        assertNoStackTrace(r, what);
        assert.equal(r.code, 0, `${what}: exit status\n${r.stderr}`);
        assert.ok(r.stdout.startsWith(`Usage: ${c.cli.usage}`), `${what}: the usage on stdout, got:\n${r.stdout}`);
        assert.match(r.stdout, /^ {2}-h, --help +display help for command$/m, `${what}: the usage lists --help`);
        assert.match(r.stdout, /\nExamples:\n {2}\S/, `${what}: examples`);
        assert.equal(r.stderr, '', `${what}: nothing on stderr`);
        return;
      }
      const message = c.kind === 'bad option' ? /unknown option '--no-such-flag'/ : c.cli.badValue.message;
      assertUsageError(r, what, c.cli.name, c.cli.usage, message);
    });
  });
});

describe('every command line the help and the docs show parses', () => {
  it('finds the documented command lines', () => {
    const lines = documentedCommands().map((d) => d.line);
    for (const expected of [
      'npm run topics -- tail live.stream.lifecycle --where payload.type=StreamCreated --from -1h',
      'npm run replay -- discovery --as-of 2026-11-24T20:00:00Z',
      'npm run dlq -- redrive live.chat.messages --file dead.jsonl --dry-run',
      'npm run -s token -- --user user_123 --name darksouls_pro)',
      './live down --wipe',
    ])
      assert.ok(lines.includes(expected), `${expected} among:\n${lines.join('\n')}`);
  });

  it('each runs no further than its command line', async () => {
    const helps = await results();
    const examples = cases.flatMap((c, i) =>
      c.kind === 'help' ? helpExamples(helps[i]!.stdout).map((line) => ({ where: `${c.cli.file} --help`, line })) : [],
    );
    const seen = new Map<string, { where: string; line: string; file: string; args: string[] }>();
    for (const e of [...examples, ...documentedCommands()]) {
      const t = toolOf(e.line, BENCHES);
      if (!t) continue;
      seen.set(JSON.stringify(t), { ...e, ...t });
    }
    const runs = [...seen.values()];
    assert.ok(runs.length > 40, `${runs.length} command lines`);
    // One process per tool, each command line parsed in turn.
    const files = [...new Set(runs.map((r) => r.file))];
    const outcomes = await mapLimit(files, PARALLEL, async (file) => {
      const lines = runs.filter((r) => r.file === file).map((r) => r.args);
      const out = await runTool(file, [], { LIVE_CLI_PARSE_ONLY: JSON.stringify(lines) });
      assert.equal(out.code, 0, `${file}: ${out.stderr}`);
      return out.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"argv":'))
        .map((l) => ({ file, ...(JSON.parse(l) as { argv: string[]; status: number | string }) }));
    });
    const status = new Map(outcomes.flat().map((o) => [JSON.stringify({ file: o.file, args: o.argv }), o.status]));
    const failed = runs
      .filter((r) => status.get(JSON.stringify({ file: r.file, args: r.args })) !== 0)
      .map((r) => `${r.where}: ${r.line}: ${status.get(JSON.stringify({ file: r.file, args: r.args }))}`);
    assert.deepEqual(failed, []);
  });
});
