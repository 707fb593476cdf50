import { InvalidArgumentError, Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { integer, parse, parseTime, tool } from '../cli.ts';
import type { EventBus } from '../kafka/bus.ts';
import type { Logger } from '../logger.ts';
import { changedFields, compareDumps, type Difference } from './compare.ts';
import type { DerivedStore } from './definition.ts';
import { progressView } from './progress.ts';
import { rebuild } from './rebuild.ts';

/**
 * `replay` for one store, as its own process runs it (`<process main> replay ...`, which
 * `npm run replay -- <store> ...` starts, its options checked already):
 *
 *   <store> [--into <target>] [--keep-old]      rebuild, then swap it in
 *   <store> --verify [--keep] [--max-diffs N]   rebuild apart, compare with the live store
 *   <store> --as-of <time> [--into <target>]    the store as it stood at <time>, apart
 *
 * Exit status: 0 done (and, with --verify, equal), 1 differences found, 2 usage or failure.
 */

/** `--as-of`: a time (platform/cli.ts's `parseTime`) that has come already. */
function pastTime(value: string): number {
  const t = parseTime(value);
  if (t > Date.now()) throw new InvalidArgumentError(`${new Date(t).toISOString()} is in the future`);
  return t;
}

/** The options of a store's replay: the same in `npm run replay -- <store>` and in the store's process. */
export function replayOptions<Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) {
  return cmd
    .option('--into <target>', 'the index or keyspace to rebuild into (default: a new name)')
    .option('--keep-old', 'keep the store that the swap replaces')
    .option('--verify', 'rebuild apart, compare with the live store, print the differences (exit 1 when any)')
    .option('--keep', 'with --verify: keep the rebuilt store')
    .option('--max-diffs <N>', 'with --verify: how many differences to print', integer(0), 20)
    .addOption(
      new Option('--as-of <time>', 'the store as it stood at <time> (ISO 8601, epoch ms, or -2h), rebuilt apart')
        .argParser(pastTime)
        .conflicts('verify'),
    );
}

export interface ReplayOptions {
  into?: string | undefined;
  keepOld?: boolean | undefined;
  verify?: boolean | undefined;
  keep?: boolean | undefined;
  maxDiffs: number;
  asOf?: number | undefined;
}

/** The options again as arguments, for the store's process. */
export function replayArgs(o: ReplayOptions): string[] {
  return [
    ...(o.into !== undefined ? ['--into', o.into] : []),
    ...(o.keepOld ? ['--keep-old'] : []),
    ...(o.verify ? ['--verify'] : []),
    ...(o.keep ? ['--keep'] : []),
    '--max-diffs',
    String(o.maxDiffs),
    ...(o.asOf !== undefined ? ['--as-of', String(o.asOf)] : []),
  ];
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

/**
 * Runs `replay` for `store` and returns the exit status; prints for a person, logs only failures.
 * A mistake in `args` exits at once (2), with the usage.
 */
export async function replayCommand(
  deps: { bus: EventBus; log: Logger },
  store: DerivedStore,
  args: string[],
  opts: { deadlineMs: number },
): Promise<number> {
  const program = replayOptions(
    tool({
      name: `replay ${store.name}`,
      command: `npm run replay -- ${store.name}`,
      description: `Rebuilds the ${store.name} store from its topics, with its own process's writer.`,
      examples: [],
    }),
  );
  const { options: a } = parse(program, args);
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
        keepOld: a.keepOld ?? false,
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
