/**
 * Discovery indexer process: live.stream.lifecycle + live.viewer.counts -> Elasticsearch.
 *   npx tsx processors/discovery-indexer/main.ts            the live indexer
 *   npx tsx processors/discovery-indexer/main.ts replay ...  a rebuild (npm run replay -- discovery)
 */
import { createElasticsearch } from '../../platform/elasticsearch/client.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { runStore } from '../../platform/store/run.ts';
import { loadIndexerConfig } from './config.ts';
import { discoveryStore } from './definition.ts';

const cfg = loadIndexerConfig();
const log = createLogger('discovery-indexer', cfg.LOG_LEVEL);
const metrics = new Metrics('discovery-indexer');
const bus = busFromConfig(cfg, 'discovery-indexer', metrics, log);
const es = createElasticsearch({ url: cfg.ELASTICSEARCH_URL });

await runStore({ bus, log, metrics }, discoveryStore(cfg, { bus, es, log }), {
  metricsAt: { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST },
  replayDeadlineMs: cfg.DISCOVERY_REBUILD_DEADLINE_MS,
});
