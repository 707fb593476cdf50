import type { EventBus } from '../kafka/bus.ts';
import type { Logger } from '../logger.ts';
import { metricsComponent, type Metrics } from '../metrics.ts';
import { fatal, runService, type Component } from '../service.ts';
import type { DerivedStore } from './definition.ts';
import { replayCommand } from './replay-command.ts';

/**
 * The process of a derived store: `main.ts` builds its store and hands it here. Run plainly, it
 * writes the live store (the store's server first, then /metrics, the writer, any `extra`
 * components, stopped in reverse); run as `main.ts replay ...`, it rebuilds the store with the
 * same writer (see replay-command.ts) and exits with the command's status.
 */
export async function runStore(
  deps: { bus: EventBus; log: Logger; metrics: Metrics },
  store: DerivedStore,
  opts: { metricsAt: { port: number; host: string }; replayDeadlineMs: number; extra?: Component[] },
): Promise<void> {
  const { log, metrics } = deps;
  if (process.argv[2] === 'replay') {
    process.exit(await replayCommand(deps, store, process.argv.slice(3), { deadlineMs: opts.replayDeadlineMs }));
  }
  let stopAll: (reason: string) => Promise<void> = async () => undefined;
  const writer = store.writer(store.live, {
    groupId: store.liveGroupId,
    live: true,
    onFatal: (err) => fatal(log, stopAll)(err),
  });
  const { stop } = await runService(log, [
    {
      name: `${store.name} store`,
      start: async () => {
        await store.connect({ live: true });
        await store.prepareLive();
        log.info({ store: store.name, target: store.live }, 'store ready');
      },
      stop: () => store.close(),
    },
    metricsComponent(metrics, opts.metricsAt, () => ({ ok: writer.healthy })),
    writer,
    ...(opts.extra ?? []),
  ]);
  stopAll = stop;
}
