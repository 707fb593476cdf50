/**
 * Rebuilds any derived store from the topics (stores are registered in ./stores/index.ts):
 *
 *   npm run replay -- list
 *   npm run replay -- <store> [--into <target>] [--keep-old]   rebuild, then swap it in
 *   npm run replay -- <store> --verify [--keep]                rebuild apart, compare with the live
 *                                                              store, print the differences
 *   npm run replay -- <store> --as-of <time> [--into <target>] the store as it stood at <time>
 *                                                              (ISO 8601 or epoch ms), apart
 *
 * Progress is a bar on a terminal and a plain line every few seconds elsewhere. Exit status: 0
 * done (and, with --verify, equal), 1 differences found, 2 usage or failure.
 * The stream registry needs no command: every API instance rebuilds it from the topic at start.
 */
import { parseArgs } from 'node:util';
import { changedFields, compareDumps, type Difference } from './compare.ts';
import { progressView } from './progress.ts';
import { REPLAY_STORES } from './stores/index.ts';

const USAGE = `usage: npm run replay -- list
       npm run replay -- <store> [--into <target>] [--keep-old]
       npm run replay -- <store> --verify [--keep] [--max-diffs N]
       npm run replay -- <store> --as-of <ISO time | epoch ms> [--into <target>]`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'keep-old': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    verify: { type: 'boolean', default: false },
    into: { type: 'string' },
    'as-of': { type: 'string' },
    'max-diffs': { type: 'string', default: '20' },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function parseTime(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) fail(`--as-of: "${text}" is not an ISO 8601 time or epoch milliseconds`);
  if (ms > Date.now()) fail(`--as-of: ${new Date(ms).toISOString()} is in the future`);
  return ms;
}

const LABELS: Record<Difference['kind'], string> = {
  changed: 'changed',
  'only-live': 'only in live',
  'only-rebuilt': 'only in rebuilt',
};

function describe(d: Difference): string {
  const fields = d.kind === 'changed' ? `: ${changedFields(d.live, d.rebuilt).join(', ') || 'value'}` : '';
  return `${LABELS[d.kind].padEnd(15)} ${d.key}${fields}`;
}

// Plain output for a person: the services' JSON logs only when something goes wrong.
process.env.LOG_LEVEL ??= 'error';

const name = positionals[0];
if (name === 'list') {
  for (const [n, s] of Object.entries(REPLAY_STORES)) console.log(`${n.padEnd(14)} ${s.description}`);
  process.exit(0);
}
const entry = name ? REPLAY_STORES[name] : undefined;
if (!name || !entry)
  fail(`${name ? `unknown store "${name}"; ` : ''}stores: ${Object.keys(REPLAY_STORES).join(', ')}\n${USAGE}`);
if (values.verify && values['as-of']) fail('--verify compares with the live store; it does not take --as-of');
const asOf = values['as-of'] === undefined ? undefined : parseTime(values['as-of']);
const maxDiffs = Number(values['max-diffs']);

const store = await entry.open();
let status = 0;
try {
  const label = `replay ${name}${asOf === undefined ? '' : ` as of ${new Date(asOf).toISOString()}`}`;
  const view = progressView(label, { tty: Boolean(process.stdout.isTTY) });
  const started = Date.now();
  const outcome = await store
    .rebuild({
      mode: values.verify || asOf !== undefined ? 'apart' : 'swap',
      ...(values.into !== undefined && { into: values.into }),
      ...(asOf !== undefined && { asOf }),
      keepOld: values['keep-old'],
      onProgress: (p) => view.update(p),
    })
    .finally(() => view.stop());
  console.log(`${label}: rebuilt into ${outcome.target} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const note of outcome.notes) console.log(`  ${note}`);

  if (values.verify) {
    const live = await store.settledLiveTarget();
    const diffs = compareDumps(await store.dump(live), await store.dump(outcome.target));
    if (diffs.length) {
      status = 1;
      console.log(`${diffs.length} difference(s) between the live ${live} and the rebuilt ${outcome.target}:`);
      for (const d of diffs.slice(0, maxDiffs)) console.log(`  ${describe(d)}`);
      if (diffs.length > maxDiffs) console.log(`  … and ${diffs.length - maxDiffs} more (--max-diffs)`);
    } else {
      console.log(`verified: the rebuilt store equals the live ${live}`);
    }
    if (values.keep) console.log(`  kept ${outcome.target}`);
    else await store.drop(outcome.target);
  }
} catch (err) {
  console.error(`replay ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
  status = 2;
} finally {
  await store.close();
}
process.exit(status);
