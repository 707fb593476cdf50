/**
 * Follows sink process: live.user.follows -> the follower graph in Cassandra.
 *   node --import tsx sinks/follows/main.ts            the live sink
 *   node --import tsx sinks/follows/main.ts replay ...  a rebuild (npm run replay -- follows)
 * Creates its keyspace and tables on start (it is their only writer).
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { runStore } from '../../platform/store/run.ts';
import { loadFollowsSinkConfig } from './config.ts';
import { followGraph } from './definition.ts';

const cfg = loadFollowsSinkConfig();
const log = createLogger('follows-sink', cfg.LOG_LEVEL);
const metrics = new Metrics('follows-sink');
const bus = busFromConfig(cfg, 'follows-sink', metrics, log);

await runStore({ bus, log, metrics }, followGraph(cfg, { bus, db: new Cassandra(cfg) }), {
  metricsAt: { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST },
  replayDeadlineMs: cfg.FOLLOWS_REPLAY_DEADLINE_MS,
});
