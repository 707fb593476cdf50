/**
 * Rebuilds a derived store from the topics and swaps it in:
 *   npm run replay -- discovery [--keep-old]
 * The stream registry needs no command: every API instance rebuilds it from the topic at start.
 */
import { parseArgs } from 'node:util';
import { clusterReady, createElasticsearch } from '../../platform/elasticsearch.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { discoveryIndex } from '../../sinks/elasticsearch/discovery-index.ts';
import { loadIndexerConfig } from '../discovery-indexer/config.ts';
import { rebuildDiscoveryIndex } from '../discovery-indexer/replay.ts';

const STORES = {
  async discovery(keepOld: boolean): Promise<void> {
    const cfg = loadIndexerConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const es = createElasticsearch({ url: cfg.ELASTICSEARCH_URL });
    try {
      await clusterReady(es, { deadlineMs: 60_000 });
      const result = await rebuildDiscoveryIndex(
        { bus, es, log },
        {
          alias: cfg.DISCOVERY_ALIAS,
          definition: discoveryIndex({ shards: cfg.DISCOVERY_SHARDS, replicas: cfg.DISCOVERY_REPLICAS }),
          groupPrefix: `${cfg.LIVE_TOPIC_PREFIX}${cfg.DISCOVERY_GROUP_ID}`,
          catchUpDeadlineMs: cfg.DISCOVERY_REBUILD_DEADLINE_MS,
          keepOld,
        },
      );
      log.info(result, `${cfg.DISCOVERY_ALIAS} now points at the rebuilt index`);
    } finally {
      await es.close();
    }
  },
};

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'keep-old': { type: 'boolean', default: false } },
});
const name = positionals[0];
if (!name || !(name in STORES)) {
  console.error(`usage: npm run replay -- <${Object.keys(STORES).join('|')}> [--keep-old]`);
  process.exit(2);
}
await STORES[name as keyof typeof STORES](values['keep-old']);
