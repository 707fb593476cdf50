import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../platform/paths.ts';

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command-line tool as its user does, in a fresh process (`node --import tsx <file>`, which
 * is what npm's `tsx <file>` comes to, without npx's start-up), with no servers in reach: a tool
 * that got past its command line and tried one fails, or is stopped after `timeoutMs`.
 */
export function runTool(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      env: { ...process.env, LOG_LEVEL: 'error', DEBUG: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** No stack trace on either stream: no frames (`    at f (file:1:2)`), no Node internals. */
export function assertNoStackTrace(r: ToolRun, what: string): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    assert.doesNotMatch(text, /^\s{4}at /m, `${what}: a stack trace on ${stream}:\n${text}`);
    assert.doesNotMatch(text, /node:internal/, `${what}: Node's internals on ${stream}:\n${text}`);
  }
}

/**
 * A user's mistake, as every tool reports it: exit 2, nothing on stdout, and on stderr
 * `<name>: <what is wrong>` (matching `message`), then the usage line (`Usage: <usage>...`), then
 * where the rest is. Returns the first line.
 */
export function assertUsageError(r: ToolRun, what: string, name: string, usage: string, message?: RegExp): string {
  assertNoStackTrace(r, what);
  assert.equal(r.code, 2, `${what}: exit status\n${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, '', `${what}: nothing on stdout`);
  const [first = '', second = '', third = '', ...rest] = r.stderr.split('\n');
  assert.ok(first.startsWith(`${name}: `), `${what}: the first line says the tool and what is wrong:\n${r.stderr}`);
  if (message) assert.match(first, message, `${what}: the message`);
  assert.ok(second.startsWith(`Usage: ${usage}`), `${what}: then the usage line, got:\n${r.stderr}`);
  assert.match(third, /^\(.* --help for more\)$/, `${what}: then where the rest is:\n${r.stderr}`);
  assert.deepEqual(rest, [''], `${what}: nothing else:\n${r.stderr}`);
  return first;
}

/** The benchmarks `npm run bench -- <name>` runs: bench/<name>.ts. */
export function benchmarks(): string[] {
  return readdirSync(join(REPO_ROOT, 'bench'))
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -3));
}

/** The file that runs a documented command line, and its arguments; undefined for other commands. */
export function toolOf(line: string, benches: readonly string[]): { file: string; args: string[] } | undefined {
  const words = shellWords(line);
  const at = (i: number, ...w: string[]): boolean => w.every((x, j) => words[i + j] === x);
  if (at(0, './live', 'test')) return { file: 'scripts/test.ts', args: words.slice(2) };
  if (at(0, './live')) return { file: 'compose/platform.ts', args: words.slice(1) };
  if (at(0, 'npm', 'test')) return { file: 'scripts/test.ts', args: words.slice(at(2, '--') ? 3 : 2) };
  if (!at(0, 'npm', 'run')) return undefined;
  const rest = words.slice(at(2, '-s') ? 3 : 2);
  const [script, dashes, ...args] = rest;
  if (dashes !== undefined && dashes !== '--') return undefined;
  const files: Record<string, string> = {
    topics: 'tools/topics/cli.ts',
    replay: 'tools/replay/cli.ts',
    dlq: 'tools/dlq/cli.ts',
    ksql: 'tools/ksql/cli.ts',
    token: 'gateways/api/token.ts',
    infra: 'compose/launcher/cli.ts',
    build: 'compose/build.ts',
  };
  if (script === 'bench') {
    const [name, ...benchArgs] = args;
    return name && benches.includes(name)
      ? { file: `bench/${name}.ts`, args: benchArgs }
      : { file: 'bench/run.ts', args };
  }
  const file = script ? files[script] : undefined;
  return file ? { file, args } : undefined;
}

/** A command line's words, its quotes undone; a comment, a redirection or a pipe ends it. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === ')' || ('#>|'.includes(ch) && word === undefined)) {
      break;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const COMMAND = /(?:\.\/live|npm (?:test|run(?: -s)? [a-z:]+))\b[^`\n]*/g;

/**
 * The command lines the README and docs/ show, in code blocks and in `code`: those that name no
 * placeholder (`<store>`, `...`, `up|down`) and no shell of their own.
 */
export function documentedCommands(): Array<{ where: string; line: string }> {
  const files = [
    'README.md',
    'ARCHITECTURE.md',
    'SECURITY.md',
    ...readdirSync(join(REPO_ROOT, 'docs')).map((f) => `docs/${f}`),
  ];
  const out: Array<{ where: string; line: string }> = [];
  for (const file of files.filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    const code = [...text.matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
    const spans = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
    for (const piece of [...code.split('\n'), ...spans]) {
      for (const m of piece.matchAll(COMMAND)) {
        const line = m[0].replace(/\s+#.*$/, '').trim();
        // A placeholder, or the tool's name in prose (`npm run ksql`, `./live`): no command line.
        if (/[<[…]|\.\.\.|\w\|\w|\$\{/.test(line) || !/^\.\/live \w|-- /.test(line)) continue;
        out.push({ where: file, line });
      }
    }
  }
  return out;
}

/** The examples a tool's --help shows, as command lines (`TOKEN=$(...)` undone). */
export function helpExamples(help: string): string[] {
  const section = /\nExamples:\n((?: {2}.*\n)+)/.exec(help)?.[1] ?? '';
  return section
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().replace(/^\w+=\$\(|^eval "\$\(/, ''));
}
