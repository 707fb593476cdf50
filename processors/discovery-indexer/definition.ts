import { waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import { clusterReady, esCall, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import {
  createFreshIndex,
  deleteIndices,
  dumpIndex,
  ensureAliasedIndex,
  indicesOf,
  swapAlias,
} from '../../platform/elasticsearch/indices.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import type { DerivedStore } from '../../platform/store/definition.ts';
import { discoveryIndex } from '../../domain/discovery/index-definition.ts';
import type { IndexerConfig } from './config.ts';
import { DiscoveryIndexer, INDEXED_TOPICS } from './indexer.ts';

/**
 * The discovery index, defined once: live.stream.lifecycle + live.viewer.counts -> one
 * Elasticsearch document per stream, written through an alias. The live indexer writes the alias;
 * `npm run replay -- discovery` builds a fresh index beside it with the same indexer, moves the
 * alias to it in one atomic call (readers switch between two requests), catches up with what the
 * live indexer wrote only into the old index meanwhile (external versions make the overlap
 * harmless), and drops the old index. `--verify` and `--as-of` build apart and leave the alias.
 */
export function discoveryStore(
  cfg: IndexerConfig,
  deps: { bus: EventBus; es: Elasticsearch; log: Logger },
): DerivedStore {
  const { bus, es, log } = deps;
  const alias = cfg.DISCOVERY_ALIAS;
  const definition = discoveryIndex({ shards: cfg.DISCOVERY_SHARDS, replicas: cfg.DISCOVERY_REPLICAS });
  const liveGroupId = `${cfg.LIVE_TOPIC_PREFIX}${cfg.DISCOVERY_GROUP_ID}`;
  /** What each swapped-in index replaced, until `finish` drops it. */
  const replaced = new Map<string, string[]>();
  return {
    name: 'discovery',
    topics: INDEXED_TOPICS,
    liveGroupId,
    live: alias,
    connect: ({ live }) =>
      clusterReady(es, {
        deadlineMs: live ? Infinity : 60_000,
        onRetry: (err, attempt) => log.warn({ err, attempt }, 'waiting for elasticsearch'),
      }),
    async prepareLive() {
      const index = await ensureAliasedIndex(es, alias, definition);
      log.info({ alias, index }, 'discovery index ready');
    },
    // Live, the target is the alias: a missing alias then waits instead of auto-creating an index.
    writer: (target, { live, ...opts }) =>
      new DiscoveryIndexer(bus, es, {
        ...opts,
        target,
        requireAlias: live,
        writtenDocuments: cfg.DISCOVERY_WRITTEN_DOCUMENTS,
      }),
    async createTarget(req) {
      if (req.into) throw new Error('discovery picks its own index name; --into is not used');
      return createFreshIndex(es, alias, definition);
    },
    async swapIn(index) {
      const previous = await swapAlias(es, alias, index);
      replaced.set(index, previous);
      log.info({ index, previous }, 'alias swapped');
      return [`${alias} now points at ${index}`];
    },
    async finish(index, req) {
      await esCall('refresh', () => es.indices.refresh({ index }));
      const previous = replaced.get(index);
      if (!previous) return [];
      if (!req.keepOld) await deleteIndices(es, previous);
      return [`${req.keepOld ? 'kept' : 'dropped'} ${previous.join(', ') || 'nothing'}`];
    },
    async settledLive() {
      await waitForGroupToReachEnd(
        bus,
        liveGroupId,
        INDEXED_TOPICS.map((k) => bus.topicName(k)),
        { deadlineMs: 120_000 },
      );
      const [live] = await indicesOf(es, alias);
      if (!live) throw new Error(`${alias} points at no index: nothing live to compare with`);
      return live;
    },
    dump: (index) => dumpIndex(es, index),
    drop: (index) => deleteIndices(es, [index]),
    close: () => es.close(),
  };
}
