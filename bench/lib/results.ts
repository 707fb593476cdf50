import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { javaBin } from '../../compose/launcher/java.ts';
import { REPO_ROOT } from '../../platform/paths.ts';

/**
 * Benchmark results: one JSON file per benchmark under bench/results/, and docs/benchmarks.md
 * rendered from all of them. Benchmarks report figures against a peer and a target; they never
 * fail on a threshold.
 */
export interface Metric {
  metric: string;
  value: number;
  unit: string;
  /** The reference measured in the same run (e.g. Kafka's Java client), or null. */
  peer: { name: string; value: number } | null;
  /** value / peer.value, or null without a peer. */
  ratio: number | null;
  target: string;
  /** null when the issue sets no figure to meet (the number is recorded to track regressions). */
  meetsTarget: boolean | null;
  notes?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  java: string;
}

export interface BenchResult extends Metric {
  name: string;
  command: string;
  machine: Machine;
  date: string;
  notes: string;
  extra?: Metric[];
}

const ROOT = REPO_ROOT;
export const RESULTS_DIR = join(ROOT, 'bench', 'results');
export const DOC = join(ROOT, 'docs', 'benchmarks.md');

export function machine(): Machine {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  let java = 'none';
  try {
    // `java -version` prints on stderr.
    const r = spawnSync(javaBin(17), ['-version'], { encoding: 'utf8' });
    java = `${r.stderr}${r.stdout}`.split('\n')[0]?.trim() || java;
  } catch {
    /* no JDK found */
  }
  return {
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    java,
  };
}

export const ratio = (ours: number, peer: number): number | null =>
  peer > 0 ? Math.round((ours / peer) * 1000) / 1000 : null;

/** A row reported without a target from the seed or an issue: it cannot have met one. */
export const isReportOnly = (target: string): boolean => /^\s*(report only.*|none.*|-|—)?$/i.test(target);

/** Report-only rows carry no "met" value, whatever a benchmark set. */
export function settled<M extends Metric>(m: M): M {
  return isReportOnly(m.target) ? { ...m, meetsTarget: null } : m;
}

/** Writes bench/results/<name>.json, adding the machine and the date; returns the file. */
export function writeResult(name: string, result: Omit<BenchResult, 'name' | 'machine' | 'date'>): string {
  const full: BenchResult = settled({
    name,
    ...result,
    ...(result.extra && { extra: result.extra.map(settled) }),
    machine: machine(),
    date: new Date().toISOString(),
  });
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  return file;
}

/**
 * Replaces (or adds) one of the `extra` metrics of bench/results/<name>.json, found by its
 * `metric` name, and leaves everything else in the file as it was: for a benchmark phase rerun on
 * its own (its notes should say when and how). Returns the file.
 */
export function replaceExtra(name: string, metric: Metric): string {
  const file = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) {
    console.log(JSON.stringify(metric, null, 2));
    throw new Error(`${file} is missing: run the whole benchmark once before rerunning one phase`);
  }
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const extra = result.extra ?? [];
  const at = extra.findIndex((m) => m.metric === metric.metric);
  if (at >= 0) extra[at] = settled(metric);
  else extra.push(settled(metric));
  writeFileSync(file, `${JSON.stringify({ ...result, extra }, null, 2)}\n`);
  return file;
}

/** The metric of that name as `bench/results/<name>.json` records it now, if it does. */
export function recordedExtra(name: string, metric: string): Metric | undefined {
  const file = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as BenchResult).extra?.find((m) => m.metric === metric);
}

export function readResults(): BenchResult[] {
  if (!existsSync(RESULTS_DIR)) return [];
  return readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as BenchResult);
}

const num = (v: number): string =>
  Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A report-only row has no "met" value at all, not a "not applicable" one that reads like a verdict. */
const met = (meets: boolean | null): string => (meets === null ? '—' : meets ? 'yes' : '**no**');

/** One metric as a row of docs/benchmarks.md. */
export function row(m: Metric): string {
  const peer = m.peer ? `${num(m.peer.value)} (${m.peer.name})` : '—';
  const r = m.ratio === null ? '—' : `${m.ratio.toFixed(2)}×`;
  return `| ${cell(m.metric)} | ${num(m.value)} ${m.unit} | ${cell(peer)} | ${r} | ${cell(m.target)} | ${met(m.meetsTarget)} |`;
}

/** Regenerates docs/benchmarks.md from every bench/results/*.json. */
export function renderBenchmarksDoc(): string {
  const results = readResults();
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench -- <name>` from bench/results/*.json; do not edit by hand. -->',
    '',
    'Each benchmark runs against the real local servers (`npm run infra -- up`) and reports our figure',
    'beside a peer measured in the same run on the same machine; the ratio is the figure to watch.',
    'Benchmarks report; they never fail on a threshold.',
    '',
  ];
  for (const r of results) {
    out.push(`## ${r.name}`, '', '| metric | ours | peer | ratio | target | met? |', '|---|---|---|---|---|---|');
    for (const m of [r, ...(r.extra ?? [])]) out.push(row(settled(m)));
    const notes = (r.extra ?? []).filter((m) => m.notes).map((m) => `- *${m.metric}*: ${m.notes}`);
    out.push(
      '',
      `- command: \`${r.command}\``,
      `- machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB; Node ${r.machine.node}; ${r.machine.java}`,
      `- date: ${r.date}`,
      ...notes,
      '',
      r.notes,
      '',
    );
  }
  if (!results.length) out.push('No results yet: run `npm run bench -- <name>`.', '');
  mkdirSync(resolve(DOC, '..'), { recursive: true });
  writeFileSync(DOC, out.join('\n'));
  return DOC;
}
