/**
 * Every command-line tool, run as its user runs it (tsx, a fresh process, no servers): `--help`
 * prints its usage to stdout and exits 0; an unknown option, and a wrong command where the tool
 * has commands, print `<tool>: <what is wrong>` and the usage line to stderr and exit 2. No output
 * ever holds a stack trace. Two tools at a time: the machine's cores are shared.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mapLimit } from '../platform/concurrency.ts';
import { REPO_ROOT } from '../platform/paths.ts';

interface Cli {
  file: string;
  /** How its error lines start. */
  name: string;
  /** Its usage line's start. */
  usage: string;
  /** A command it does not have, for a tool that takes commands. */
  wrongCommand?: string[];
}

const CLIS: Cli[] = [
  { file: 'compose/platform.ts', name: 'live', usage: 'usage: ./live up', wrongCommand: ['frob'] },
  {
    file: 'compose/launcher/cli.ts',
    name: 'infra',
    usage: 'usage: npm run infra -- up',
    wrongCommand: ['frob'],
  },
  { file: 'scripts/test.ts', name: 'test', usage: 'usage: npm test --' },
  { file: 'tools/topics/cli.ts', name: 'topics', usage: 'usage: npm run topics -- list', wrongCommand: ['frob'] },
  { file: 'tools/dlq/cli.ts', name: 'dlq', usage: 'usage: npm run dlq -- list', wrongCommand: ['frob', 'x'] },
  { file: 'tools/ksql/cli.ts', name: 'ksql', usage: 'usage: npm run ksql -- check', wrongCommand: ['frob'] },
  { file: 'tools/replay/cli.ts', name: 'replay', usage: 'usage: npm run replay -- list', wrongCommand: ['frob'] },
  { file: 'gateways/api/token.ts', name: 'token', usage: 'usage: npm run token --' },
  { file: 'bench/run.ts', name: 'bench', usage: 'usage: npm run bench --', wrongCommand: ['frob'] },
  ...[
    'chat',
    'discovery',
    'edge',
    'event-bus',
    'follows',
    'replay',
    'transcode',
    'transcode-gpu',
    'viewers',
    'webrtc-viewers',
    'webrtc-first-frame',
  ].map((b) => ({ file: `bench/${b}.ts`, name: `bench ${b}`, usage: `usage: npm run bench -- ${b} ` })),
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

function runCli(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [file, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A tool that got past its command line would try to reach servers: stop it, and fail.
      timeout: 60_000,
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A Node stack trace's marks: frames (`    at f (file:1:2)`) and Node's own sources. */
function assertNoStackTrace(r: Run, what: string): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    assert.doesNotMatch(text, /^\s{4}at /m, `${what}: a stack trace on ${stream}:\n${text}`);
    assert.doesNotMatch(text, /node:internal/, `${what}: node's internals on ${stream}:\n${text}`);
  }
}

interface Case {
  cli: Cli;
  args: string[];
}

const cases: Case[] = CLIS.flatMap((cli) => [
  { cli, args: ['--help'] },
  { cli, args: ['--no-such-flag'] },
  ...(cli.wrongCommand ? [{ cli, args: cli.wrongCommand }] : []),
]);

// All of them up front, two at a time; each test awaits its own.
let all: Promise<Run[]> | undefined;
const results = (): Promise<Run[]> => (all ??= mapLimit(cases, 2, (c) => runCli(c.cli.file, c.args)));

describe('command-line tools answer --help and mistakes with their usage, never a stack trace', () => {
  cases.forEach((c, i) => {
    const what = `${c.cli.file} ${c.args.join(' ')}`;
    it(what, async () => {
      const r = (await results())[i]!;
      assertNoStackTrace(r, what);
      if (c.args[0] === '--help') {
        assert.equal(r.code, 0, `${what}: exit status\n${r.stderr}`);
        assert.ok(r.stdout.startsWith(c.cli.usage), `${what}: the usage on stdout, got:\n${r.stdout}`);
        assert.ok(r.stdout.includes('--help'), `${what}: the usage lists --help`);
        assert.equal(r.stderr, '', `${what}: nothing on stderr`);
        return;
      }
      assert.equal(r.code, 2, `${what}: exit status\n${r.stdout}${r.stderr}`);
      const [first, second] = r.stderr.split('\n');
      assert.ok(first!.startsWith(`${c.cli.name}: `), `${what}: first line says the tool and what is wrong: ${first}`);
      if (c.args[0] === '--no-such-flag') assert.match(first!, /Unknown option '--no-such-flag'/);
      assert.ok(second!.startsWith(c.cli.usage), `${what}: then the usage line, got:\n${r.stderr}`);
      assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    });
  });
});
