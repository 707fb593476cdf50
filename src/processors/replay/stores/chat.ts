import { Cassandra } from '../../../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../../../platform/consumer-groups.ts';
import { busFromConfig } from '../../../platform/infra-config.ts';
import { createLogger } from '../../../platform/logger.ts';
import { Metrics } from '../../../platform/metrics.ts';
import { loadArchiverConfig } from '../../../sinks/chat-archiver/config.ts';
import { dumpChatArchive } from '../../../sinks/chat-archiver/dump.ts';
import { rebuildChatArchive } from '../../../sinks/chat-archiver/replay.ts';
import type { ReplayStore, StoreEntry } from '../store.ts';

/**
 * The chat archive: rebuilt into a keyspace of its own. Readers switch by configuration
 * (CHAT_KEYSPACE), so a 'swap' rebuild needs --into and the operator points the services at it.
 */
export const chatStore: StoreEntry = {
  description: 'Cassandra chat history and per-minute stats (live.chat.messages); into a new keyspace',
  async open(): Promise<ReplayStore> {
    const cfg = loadArchiverConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const db = new Cassandra(cfg);
    await db.connect();
    const groupPrefix = `${cfg.LIVE_TOPIC_PREFIX}${cfg.CHAT_ARCHIVER_GROUP_ID}`;
    return {
      name: 'chat',
      async rebuild(req) {
        const target =
          req.into ??
          (req.mode === 'apart' ? `${cfg.CHAT_KEYSPACE}_r${Date.now().toString(36)}` : cfg.CHAT_REPLAY_KEYSPACE);
        if (!target || target === cfg.CHAT_KEYSPACE) {
          throw new Error(`give --into <keyspace> other than the live one (${cfg.CHAT_KEYSPACE})`);
        }
        await rebuildChatArchive(
          { bus, db, log },
          {
            keyspace: target,
            groupPrefix,
            limits: {
              maxRows: cfg.CHAT_ARCHIVER_BATCH_ROWS,
              maxBytes: cfg.CHAT_ARCHIVER_BATCH_BYTES,
              ttlSeconds: cfg.CHAT_RETENTION_DAYS * 86_400,
            },
            concurrency: cfg.CHAT_ARCHIVER_CONCURRENCY,
            maxRecords: cfg.CHAT_ARCHIVER_MAX_RECORDS,
            deadlineMs: cfg.CHAT_REPLAY_DEADLINE_MS,
            replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
            localDc: cfg.CASSANDRA_LOCAL_DC,
            ...(req.asOf !== undefined && { until: req.asOf }),
            ...(req.onProgress && { onProgress: req.onProgress }),
          },
        );
        return {
          target,
          notes:
            req.mode === 'swap' ? [`set CHAT_KEYSPACE=${target} on the chat gateways and archivers to switch`] : [],
        };
      },
      async settledLiveTarget() {
        await waitForGroupToReachEnd(bus, groupPrefix, [bus.topicName('chatMessages')], { deadlineMs: 120_000 });
        return cfg.CHAT_KEYSPACE;
      },
      dump: (keyspace) => dumpChatArchive(db, keyspace),
      drop: (keyspace) => db.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`),
      close: () => db.shutdown(),
    };
  },
};
