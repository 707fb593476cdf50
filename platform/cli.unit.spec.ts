import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { mapLimit } from './concurrency.ts';
import { decimal, integer, lazy, list, parseTime, repeatable, tool, usageLine } from './cli.ts';
import { assertNoStackTrace, assertUsageError, runTool, type ToolRun } from '../tests/support/cli.ts';

describe('value parsers', () => {
  const refuses = (parse: (v: string) => unknown, value: string, message: RegExp): void =>
    assert.throws(
      () => parse(value),
      (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message),
    );

  it('integer: whole numbers in a range, nothing else', () => {
    assert.equal(integer(1)('10'), 10);
    assert.equal(integer(0)('0'), 0);
    assert.equal(integer(1, 4)('4'), 4);
    for (const bad of ['0', '-3', '1.5', '1e3', '', ' 2', 'ten', '99999999999999999999'])
      refuses(integer(1), bad, /expected a positive whole number/);
    refuses(integer(0), '-1', /expected a whole number ≥ 0/);
    refuses(integer(1, 4), '5', /expected a whole number from 1 to 4/);
  });

  it('decimal: numbers within bounds', () => {
    assert.equal(decimal({ atLeast: 0, atMost: 1 })('0.3'), 0.3);
    assert.equal(decimal({ above: 0 })('2.5'), 2.5);
    refuses(decimal({ above: 0 }), '0', /expected a number > 0/);
    refuses(decimal({ atLeast: 0, atMost: 1 }), '1.5', /expected a number ≥ 0 and ≤ 1/);
    refuses(decimal({ atLeast: 0 }), 'NaN', /expected a number ≥ 0/);
    refuses(decimal({ atLeast: 0 }), '', /expected a number/);
  });

  it('list: comma-separated items, each read by its parser', () => {
    assert.deepEqual(list(integer(1))('1000, 100'), [1000, 100]);
    assert.deepEqual(list((v) => v)('standard'), ['standard']);
    refuses(list(integer(1)), '1,,2', /comma-separated/);
    refuses(list(integer(1)), '1,x', /positive whole number/);
  });

  it('repeatable: each occurrence adds one', () => {
    assert.deepEqual(repeatable('b=2', repeatable('a=1', undefined)), ['a=1', 'b=2']);
  });

  it('parseTime: ISO-8601, epoch millis, or relative to now', () => {
    assert.equal(parseTime('2026-11-25T20:00:00Z'), Date.UTC(2026, 10, 25, 20));
    assert.equal(parseTime('2026-11-25T00:00Z'), Date.UTC(2026, 10, 25));
    assert.equal(parseTime('1795600000000'), 1795600000000);
    assert.equal(parseTime('-30s', 1_000_000_000), 1_000_000_000 - 30_000);
    assert.equal(parseTime('-15m', 1_000_000_000), 1_000_000_000 - 900_000);
    assert.equal(parseTime('-2h', 1_000_000_000), 1_000_000_000 - 7_200_000);
    assert.equal(parseTime('-1d', 1_000_000_000), 1_000_000_000 - 86_400_000);
    refuses(parseTime, 'yesterday', /expected ISO-8601, epoch millis or -15m\/-2h\/-1d/);
    refuses(parseTime, '-1w', /expected ISO-8601/);
  });

  it('lazy: made once, when first asked for', () => {
    let made = 0;
    const value = lazy(() => ++made);
    assert.equal(made, 0);
    assert.equal(value(), 1);
    assert.equal(value(), 1);
  });
});

describe('usage line', () => {
  it("is commander's, under the command that runs the tool", () => {
    const program = tool({ name: 't', command: 'npm run t --', description: 'd', examples: [] });
    const sub = program.command('tail').argument('<topic>').option('--limit <N>');
    assert.equal(usageLine(program), 'Usage: npm run t -- [options] [command]');
    assert.equal(usageLine(sub), 'Usage: npm run t -- tail [options] <topic>');
  });
});

describe('a tool made with tool() and run(), run as its user runs it', () => {
  const FIXTURE = 'tests/fixtures/cli-tool.ts';
  const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv }> = [
    { args: ['--help'] },
    { args: ['show', '--help'] },
    { args: [] },
    { args: ['--bogus'] },
    { args: ['frob'] },
    { args: ['show'] },
    { args: ['show', 'x', '--limt', '3'] },
    { args: ['show', 'x', '--limit', '0'] },
    { args: ['show', 'x', '--from', 'yesterday'] },
    { args: ['show', 'x', 'y'] },
    { args: ['show', 'nothing'] },
    { args: ['show', 'x', '--from', '-1h', '--limit', '3'] },
    { args: ['show', 'x', '--exit', '3'] },
    { args: ['fail'] },
    { args: ['fail'], env: { DEBUG: '1' } },
    { args: ['show', 'x', '--from=-15m'], env: { LIVE_CLI_PARSE_ONLY: '1' } },
    {
      args: [],
      env: { LIVE_CLI_PARSE_ONLY: JSON.stringify([['show', 'a', '--limit', '3'], ['show', 'b'], ['show'], ['fail']]) },
    },
  ];
  let all: Promise<ToolRun[]> | undefined;
  const started = Date.now();
  const results = async (): Promise<ToolRun[]> =>
    (all ??= mapLimit(cases, 4, (c) => runTool(FIXTURE, c.args, c.env ?? {})));
  const result = async (i: number): Promise<ToolRun> => (await results())[i]!;

  it('--help: the usage, what it does, its commands, the examples and notes, on stdout; exit 0', async () => {
    const r = await result(0);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(
      r.stdout.startsWith('Usage: demo <command> [options]\n\nA tool for the spec of platform/cli.ts.\n'),
      r.stdout,
    );
    assert.match(r.stdout, /^Commands:\n {2}show \[options\] <name> +prints what it understood$/m);
    assert.match(
      r.stdout,
      /\nExamples:\n {2}demo show x --from -1h {5}# from an hour ago\n {2}demo fail\n\nExit status: 3 when asked for\.\n$/,
    );
  });

  it("<command> --help: that command's usage, options and examples", async () => {
    const r = await result(1);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith('Usage: demo show [options] <name>\n'), r.stdout);
    assert.match(r.stdout, /--limit <N> +a positive count \(default: 10\)/);
    assert.match(r.stdout, /\nExamples:\n {2}demo show x --from -1h/);
    assert.doesNotMatch(r.stdout, /demo fail|Exit status/, "another command's examples, the tool's notes");
  });

  it('a mistake: the tool, what is wrong, the usage line of the command concerned; exit 2', async () => {
    const expect: Array<[number, string, RegExp]> = [
      [2, 'demo <command> [options]', /^demo: which command\?$/],
      [3, 'demo <command> [options]', /^demo: unknown option '--bogus'$/],
      [4, 'demo <command> [options]', /^demo: unknown command 'frob'$/],
      [5, 'demo show [options] <name>', /^demo: missing required argument 'name'$/],
      [6, 'demo show [options] <name>', /^demo: unknown option '--limt' \(Did you mean --limit\?\)$/],
      [
        7,
        'demo show [options] <name>',
        /^demo: option '--limit <N>' argument '0' is invalid\. expected a positive whole number$/,
      ],
      [
        8,
        'demo show [options] <name>',
        /^demo: option '--from <T>' argument 'yesterday' is invalid\. expected ISO-8601/,
      ],
      [9, 'demo show [options] <name>', /^demo: too many arguments for 'show'/],
      [10, 'demo show [options] <name>', /^demo: nothing is not a name$/],
    ];
    for (const [i, usage, message] of expect) {
      assertUsageError(await result(i), `demo ${cases[i]!.args.join(' ')}`, 'demo', usage, message);
    }
    assert.equal((await result(6)).stderr.split('\n')[2], '(demo show --help for more)');
  });

  it('takes a value that starts with "-" (--from -1h), and runs the action', async () => {
    const r = await result(11);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { name: string; from: number; limit: number };
    assert.equal(out.name, 'x');
    assert.equal(out.limit, 3);
    assert.ok(Math.abs(out.from - (started - 3_600_000)) < 60_000, `an hour ago: ${new Date(out.from).toISOString()}`);
  });

  it('exits with the status the action sets', async () => {
    assert.equal((await result(12)).code, 3);
  });

  it('a failure while running: one line, exit 1; the stack only with DEBUG', async () => {
    const r = await result(13);
    assertNoStackTrace(r, 'demo fail');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'demo: connect ECONNREFUSED 127.0.0.1:9092\n');
    const debug = await result(14);
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^demo: connect ECONNREFUSED 127\.0\.0\.1:9092\nError: connect ECONNREFUSED.*\n {4}at /);
  });

  it('LIVE_CLI_PARSE_ONLY: prints what it understood and runs nothing', async () => {
    const r = await result(15);
    assert.equal(r.code, 0, r.stderr);
    const parsed = JSON.parse(r.stdout) as {
      argv: string[];
      status: number;
      command: string[];
      args: string[];
      options: { from: number; limit: number };
    };
    assert.deepEqual(
      [parsed.argv, parsed.status, parsed.command, parsed.args],
      [['show', 'x', '--from=-15m'], 0, ['show'], ['x']],
    );
    assert.equal(parsed.options.limit, 10);
    assert.ok(Math.abs(parsed.options.from - (started - 900_000)) < 60_000);
  });

  it('LIVE_CLI_PARSE_ONLY with a list: each command line in turn, its status', async () => {
    const lines = (await result(16)).stdout.split('\n').filter((l) => l.startsWith('{'));
    const outcomes = lines.map((l) => JSON.parse(l) as { argv: string[]; status: number; options?: { limit: number } });
    assert.deepEqual(
      outcomes.map((o) => [o.argv.join(' '), o.status]),
      [
        ['show a --limit 3', 0],
        ['show b', 0],
        ['show', 2],
        ['fail', 0],
      ],
    );
    assert.equal(outcomes[1]!.options!.limit, 10, 'each parse starts afresh');
  });
});
