/**
 * Discovery indexer process: live.stream.lifecycle + live.viewer.counts -> Elasticsearch.
 *   npx tsx processors/discovery-indexer/main.ts
 */
import { clusterReady, createElasticsearch } from '../../platform/elasticsearch/client.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { discoveryIndex } from '../../domain/discovery/index-definition.ts';
import { ensureAliasedIndex } from '../../platform/elasticsearch/indices.ts';
import { loadIndexerConfig } from './config.ts';
import { DiscoveryIndexer } from './indexer.ts';

const cfg = loadIndexerConfig();
const log = createLogger('discovery-indexer', cfg.LOG_LEVEL);
const metrics = new Metrics('discovery-indexer');
const bus = busFromConfig(cfg, 'discovery-indexer', metrics, log);
const es = createElasticsearch({ url: cfg.ELASTICSEARCH_URL });
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const indexer = new DiscoveryIndexer(bus, es, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.DISCOVERY_GROUP_ID}`,
  target: cfg.DISCOVERY_ALIAS,
  requireAlias: true,
  onFatal: (err) => fatal(log, stopAll)(err),
});

const { stop } = await runService(log, [
  {
    name: 'elasticsearch',
    start: async () => {
      await clusterReady(es, {
        deadlineMs: Infinity,
        onRetry: (err, attempt) => log.warn({ err, attempt }, 'waiting for elasticsearch'),
      });
      const index = await ensureAliasedIndex(
        es,
        cfg.DISCOVERY_ALIAS,
        discoveryIndex({ shards: cfg.DISCOVERY_SHARDS, replicas: cfg.DISCOVERY_REPLICAS }),
      );
      log.info({ alias: cfg.DISCOVERY_ALIAS, index }, 'discovery index ready');
    },
    stop: () => es.close(),
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: indexer.healthy })),
  indexer,
]);
stopAll = stop;
