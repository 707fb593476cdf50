import { parseCli, usageErrorText } from '../cli.ts';
import type { EventBus } from '../kafka/bus.ts';
import type { Logger } from '../logger.ts';
import { changedFields, compareDumps, type Difference } from './compare.ts';
import type { DerivedStore } from './definition.ts';
import { progressView } from './progress.ts';
import { rebuild } from './rebuild.ts';

/**
 * `replay` for one store, as its own process runs it (`<process main> replay ...`, which
 * `npm run replay -- <store> ...` starts):
 *
 *   <store> [--into <target>] [--keep-old]      rebuild, then swap it in
 *   <store> --verify [--keep] [--max-diffs N]   rebuild apart, compare with the live store
 *   <store> --as-of <time> [--into <target>]    the store as it stood at <time>, apart
 *
 * Exit status: 0 done (and, with --verify, equal), 1 differences found, 2 usage or failure.
 */
export const REPLAY_USAGE = `usage: npm run replay -- list
       npm run replay -- <store> [--into <target>] [--keep-old]
       npm run replay -- <store> --verify [--keep] [--max-diffs N]
       npm run replay -- <store> --as-of <ISO time | epoch ms> [--into <target>]`;

class UsageError extends Error {}

interface ReplayArgs {
  verify: boolean;
  keep: boolean;
  keepOld: boolean;
  into?: string;
  asOf?: number;
  maxDiffs: number;
}

/** The command line after the store's name; a UsageError says what is wrong. */
export function parseReplayArgs(args: string[], now = Date.now()): ReplayArgs | 'help' {
  const parsed = parseCli(
    {
      options: {
        'keep-old': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        verify: { type: 'boolean', default: false },
        into: { type: 'string' },
        'as-of': { type: 'string' },
        'max-diffs': { type: 'string', default: '20' },
      },
    },
    args,
  );
  if (parsed.kind === 'help') return 'help';
  if (parsed.kind === 'error') throw new UsageError(parsed.message);
  const { values } = parsed;
  if (values.verify && values['as-of'])
    throw new UsageError('--verify compares with the live store; it does not take --as-of');
  const maxDiffs = Number(values['max-diffs']);
  if (!Number.isInteger(maxDiffs) || maxDiffs < 0) throw new UsageError('--max-diffs takes a whole number');
  let asOf: number | undefined;
  if (values['as-of'] !== undefined) {
    const text = values['as-of'];
    asOf = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(asOf))
      throw new UsageError(`--as-of: "${text}" is not an ISO 8601 time or epoch milliseconds`);
    if (asOf > now) throw new UsageError(`--as-of: ${new Date(asOf).toISOString()} is in the future`);
  }
  return {
    verify: values.verify,
    keep: values.keep,
    keepOld: values['keep-old'],
    ...(values.into !== undefined && { into: values.into }),
    ...(asOf !== undefined && { asOf }),
    maxDiffs,
  };
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

/** Runs `replay` for `store` and returns the exit status; prints for a person, logs only failures. */
export async function replayCommand(
  deps: { bus: EventBus; log: Logger },
  store: DerivedStore,
  args: string[],
  opts: { deadlineMs: number },
): Promise<number> {
  let parsed: ReplayArgs | 'help';
  try {
    parsed = parseReplayArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(usageErrorText({ name: `replay ${store.name}`, usage: REPLAY_USAGE }, err.message));
    return 2;
  }
  if (parsed === 'help') {
    console.log(REPLAY_USAGE);
    return 0;
  }
  const a = parsed;
  let status = 0;
  try {
    await store.connect({ live: false });
    const label = `replay ${store.name}${a.asOf === undefined ? '' : ` as of ${new Date(a.asOf).toISOString()}`}`;
    const view = progressView(label, { tty: Boolean(process.stdout.isTTY) });
    const started = Date.now();
    const outcome = await rebuild(
      deps,
      store,
      {
        mode: a.verify || a.asOf !== undefined ? 'apart' : 'swap',
        ...(a.into !== undefined && { into: a.into }),
        ...(a.asOf !== undefined && { asOf: a.asOf }),
        keepOld: a.keepOld,
        onProgress: (p) => view.update(p),
      },
      opts,
    ).finally(() => view.stop());
    console.log(`${label}: rebuilt into ${outcome.target} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const note of outcome.notes) console.log(`  ${note}`);

    if (a.verify) {
      const live = await store.settledLive();
      const diffs = compareDumps(await store.dump(live), await store.dump(outcome.target));
      if (diffs.length) {
        status = 1;
        console.log(`${diffs.length} difference(s) between the live ${live} and the rebuilt ${outcome.target}:`);
        for (const d of diffs.slice(0, a.maxDiffs)) console.log(`  ${describe(d)}`);
        if (diffs.length > a.maxDiffs) console.log(`  … and ${diffs.length - a.maxDiffs} more (--max-diffs)`);
      } else {
        console.log(`verified: the rebuilt store equals the live ${live}`);
      }
      if (a.keep) console.log(`  kept ${outcome.target}`);
      else await store.drop(outcome.target);
    }
  } catch (err) {
    console.error(`replay ${store.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    status = 2;
  } finally {
    await store.close();
  }
  return status;
}
