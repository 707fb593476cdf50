import { deleteConsumerGroup, waitForGroupToReachEnd } from '../kafka/groups.ts';
import type { EventBus } from '../kafka/bus.ts';
import type { Logger } from '../logger.ts';
import type { DerivedStore, RebuildOutcome, RebuildRequest } from './definition.ts';

/**
 * Rebuilds a store from its topics with its own writer:
 *
 *   1. the store makes a fresh target (never the live one, unless it rebuilds in place);
 *   2. the writer runs in a one-off consumer group from the start of the topics until that group
 *      has committed the end offsets taken when it began (the runner commits only what is
 *      durable, so this means every record before them is in the target);
 *   3. 'swap': the store puts the target where readers look, and the writer catches up again with
 *      what the live writer wrote elsewhere meanwhile (idempotent writes make the overlap harmless);
 *   4. the store finishes the target; the group is deleted, and an unfinished target dropped.
 */
export async function rebuild(
  deps: { bus: EventBus; log: Logger },
  store: DerivedStore,
  req: RebuildRequest,
  opts: { deadlineMs: number },
): Promise<RebuildOutcome> {
  const { bus, log } = deps;
  const target = await store.createTarget(req);
  const groupId = `${store.liveGroupId}.rebuild.${Date.now().toString(36)}`;
  log.info({ store: store.name, target, groupId }, 'rebuilding from the topics');
  const writer = store.writer(target, {
    groupId,
    live: false,
    ...(req.asOf !== undefined && { until: req.asOf }),
  });
  const topics = store.topics.map((k) => bus.topicName(k));
  const caughtUp = () =>
    waitForGroupToReachEnd(bus, groupId, topics, {
      deadlineMs: opts.deadlineMs,
      ...(req.onProgress && { onProgress: req.onProgress }),
    });
  let notes: string[] = [];
  let done = false;
  try {
    await writer.start();
    await caughtUp();
    if (req.mode === 'swap' && store.swapIn) {
      notes = await store.swapIn(target, req);
      await caughtUp();
    }
    if (store.finish) notes = [...notes, ...(await store.finish(target, req))];
    done = true;
    return { target, notes };
  } finally {
    await writer.stop();
    if (!done && target !== store.live)
      await store
        .drop(target)
        .catch((err: unknown) => log.warn({ err, target }, 'could not drop the unfinished target'));
    await deleteConsumerGroup(bus, groupId, log);
  }
}
