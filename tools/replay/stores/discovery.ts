import { waitForGroupToReachEnd } from '../../../platform/kafka/groups.ts';
import { clusterReady, createElasticsearch } from '../../../platform/elasticsearch/client.ts';
import { busFromConfig } from '../../../platform/infra-config.ts';
import { createLogger } from '../../../platform/logger.ts';
import { Metrics } from '../../../platform/metrics.ts';
import { discoveryIndex } from '../../../domain/discovery/index-definition.ts';
import { deleteIndices, dumpIndex, indicesOf } from '../../../platform/elasticsearch/indices.ts';
import { loadIndexerConfig } from '../../../processors/discovery-indexer/config.ts';
import { INDEXED_TOPICS } from '../../../processors/discovery-indexer/indexer.ts';
import { buildDiscoveryIndexApart, rebuildDiscoveryIndex } from '../../../processors/discovery-indexer/replay.ts';
import type { ReplayStore, StoreEntry } from '../store.ts';

/** The discovery index: rebuilt beside the live one and swapped in by moving the alias. */
export const discoveryStore: StoreEntry = {
  description: 'Elasticsearch discovery index (live.stream.lifecycle, live.viewer.counts); swaps the alias',
  async open(): Promise<ReplayStore> {
    const cfg = loadIndexerConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const es = createElasticsearch({ url: cfg.ELASTICSEARCH_URL });
    await clusterReady(es, { deadlineMs: 60_000 });
    const common = {
      alias: cfg.DISCOVERY_ALIAS,
      definition: discoveryIndex({ shards: cfg.DISCOVERY_SHARDS, replicas: cfg.DISCOVERY_REPLICAS }),
      groupPrefix: `${cfg.LIVE_TOPIC_PREFIX}${cfg.DISCOVERY_GROUP_ID}`,
      catchUpDeadlineMs: cfg.DISCOVERY_REBUILD_DEADLINE_MS,
    };
    return {
      name: 'discovery',
      async rebuild(req) {
        if (req.into) throw new Error('discovery picks its own index name; --into is not used');
        const progress = req.onProgress && { onProgress: req.onProgress };
        if (req.mode === 'apart') {
          const target = await buildDiscoveryIndexApart(
            { bus, es, log },
            { ...common, ...progress, ...(req.asOf !== undefined && { until: req.asOf }) },
          );
          return { target, notes: [`built apart from ${cfg.DISCOVERY_ALIAS}; readers still see the live index`] };
        }
        const { index, previous } = await rebuildDiscoveryIndex(
          { bus, es, log },
          { ...common, ...progress, keepOld: req.keepOld ?? false },
        );
        return {
          target: index,
          notes: [
            `${cfg.DISCOVERY_ALIAS} now points at ${index}`,
            req.keepOld ? `kept ${previous.join(', ') || 'nothing'}` : `dropped ${previous.join(', ') || 'nothing'}`,
          ],
        };
      },
      async settledLiveTarget() {
        await waitForGroupToReachEnd(
          bus,
          common.groupPrefix,
          INDEXED_TOPICS.map((k) => bus.topicName(k)),
          { deadlineMs: 120_000 },
        );
        const [live] = await indicesOf(es, cfg.DISCOVERY_ALIAS);
        if (!live) throw new Error(`${cfg.DISCOVERY_ALIAS} points at no index: nothing live to compare with`);
        return live;
      },
      dump: (target) => dumpIndex(es, target),
      drop: (target) => deleteIndices(es, [target]),
      close: () => es.close(),
    };
  },
};
