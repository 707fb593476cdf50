/**
 * Notifications sink process: live.notifications -> each user's notifications in Cassandra.
 *   node --import tsx sinks/notifications/main.ts            the live sink
 *   node --import tsx sinks/notifications/main.ts replay ...  a rebuild (npm run replay -- notifications)
 * Creates its keyspace and tables on start (it is their only writer).
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { runStore } from '../../platform/store/run.ts';
import { loadNotificationsSinkConfig } from './config.ts';
import { notificationsStore } from './definition.ts';

const cfg = loadNotificationsSinkConfig();
const log = createLogger('notifications-sink', cfg.LOG_LEVEL);
const metrics = new Metrics('notifications-sink');
const bus = busFromConfig(cfg, 'notifications-sink', metrics, log);

await runStore({ bus, log, metrics }, notificationsStore(cfg, { bus, db: new Cassandra(cfg) }), {
  metricsAt: { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST },
  replayDeadlineMs: cfg.NOTIFICATIONS_REPLAY_DEADLINE_MS,
});
