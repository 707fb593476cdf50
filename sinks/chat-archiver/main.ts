/**
 * Chat archiver process: live.chat.messages -> Cassandra (history, moderation, per-minute stats).
 *   node --import tsx sinks/chat-archiver/main.ts            the live archiver
 *   node --import tsx sinks/chat-archiver/main.ts replay ...  a rebuild (npm run replay -- chat)
 * Creates its keyspace and tables on start (it is their only writer).
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { runStore } from '../../platform/store/run.ts';
import { loadArchiverConfig } from './config.ts';
import { chatArchive } from './definition.ts';

const cfg = loadArchiverConfig();
const log = createLogger('chat-archiver', cfg.LOG_LEVEL);
const metrics = new Metrics('chat-archiver');
const bus = busFromConfig(cfg, 'chat-archiver', metrics, log);

await runStore({ bus, log, metrics }, chatArchive(cfg, { bus, db: new Cassandra(cfg) }), {
  metricsAt: { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST },
  replayDeadlineMs: cfg.CHAT_REPLAY_DEADLINE_MS,
});
