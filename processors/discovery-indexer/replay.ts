import { deleteConsumerGroup, waitForGroupToReachEnd, type GroupProgress } from '../../platform/kafka/groups.ts';
import { esCall, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import {
  createFreshIndex,
  deleteIndices,
  swapAlias,
  type IndexDefinition,
} from '../../platform/elasticsearch/indices.ts';
import { DiscoveryIndexer, INDEXED_TOPICS } from './indexer.ts';

/**
 * Rebuilds the discovery index from the topics, next to the live one, and swaps it in:
 *
 *   1. create a fresh, unaliased index;
 *   2. index every record of the topics into it with a new consumer group, until that group has
 *      committed the end offsets taken now;
 *   3. move the alias to it in one atomic call (readers switch between two requests);
 *   4. keep indexing until the end offsets taken after the swap: records the live indexer wrote
 *      only into the old index while 2-3 ran are applied here too (external versions make the
 *      overlap harmless);
 *   5. drop the old index(es) and the rebuild's consumer group.
 *
 * The live indexer keeps running throughout: it writes through the alias, so after step 3 its
 * writes land in the new index.
 */
export interface ReplayOptions {
  alias: string;
  definition: IndexDefinition;
  /** Names the rebuild's consumer group: `<groupPrefix>.rebuild.<index>`. */
  groupPrefix: string;
  catchUpDeadlineMs: number;
  keepOld?: boolean;
  onProgress?: (p: GroupProgress) => void;
}

export async function rebuildDiscoveryIndex(
  deps: { bus: EventBus; es: Elasticsearch; log: Logger },
  opts: ReplayOptions,
): Promise<{ index: string; previous: string[] }> {
  const { bus, es, log } = deps;
  const index = await createFreshIndex(es, opts.alias, opts.definition);
  const groupId = `${opts.groupPrefix}.rebuild.${index}`;
  log.info({ index, groupId }, 'rebuilding the discovery index from the topics');
  const indexer = new DiscoveryIndexer(bus, es, { groupId, target: index, requireAlias: false });
  let swapped = false;
  try {
    await indexer.start();
    const topics = INDEXED_TOPICS.map((k) => bus.topicName(k));
    const caughtUp = () =>
      waitForGroupToReachEnd(bus, groupId, topics, {
        deadlineMs: opts.catchUpDeadlineMs,
        ...(opts.onProgress && { onProgress: opts.onProgress }),
      });
    await caughtUp();
    const previous = await swapAlias(es, opts.alias, index);
    swapped = true;
    log.info({ index, previous }, 'alias swapped');
    await caughtUp();
    await esCall('refresh', () => es.indices.refresh({ index }));
    if (!opts.keepOld) await deleteIndices(es, previous);
    return { index, previous };
  } finally {
    await indexer.stop();
    if (!swapped)
      await deleteIndices(es, [index]).catch((err: unknown) =>
        log.warn({ err, index }, 'could not drop the unfinished index'),
      );
    await deleteConsumerGroup(bus, groupId, log);
  }
}

/**
 * Builds the discovery index into a fresh index of its own and leaves the alias alone: for
 * `replay --verify` (compared with the live index) and point-in-time rebuilds (`until`: only the
 * records appended up to then), which must never replace what readers see.
 */
export async function buildDiscoveryIndexApart(
  deps: { bus: EventBus; es: Elasticsearch; log: Logger },
  opts: Omit<ReplayOptions, 'keepOld'> & { until?: number },
): Promise<string> {
  const { bus, es, log } = deps;
  const index = await createFreshIndex(es, opts.alias, opts.definition);
  const groupId = `${opts.groupPrefix}.rebuild.${index}`;
  log.info({ index, groupId, until: opts.until }, 'building a discovery index apart from the live one');
  const indexer = new DiscoveryIndexer(bus, es, {
    groupId,
    target: index,
    requireAlias: false,
    ...(opts.until !== undefined && { until: opts.until }),
  });
  let done = false;
  try {
    await indexer.start();
    await waitForGroupToReachEnd(
      bus,
      groupId,
      INDEXED_TOPICS.map((k) => bus.topicName(k)),
      { deadlineMs: opts.catchUpDeadlineMs, ...(opts.onProgress && { onProgress: opts.onProgress }) },
    );
    await esCall('refresh', () => es.indices.refresh({ index }));
    done = true;
    return index;
  } finally {
    await indexer.stop();
    if (!done)
      await deleteIndices(es, [index]).catch((err: unknown) =>
        log.warn({ err, index }, 'could not drop the unfinished index'),
      );
    await deleteConsumerGroup(bus, groupId, log);
  }
}
