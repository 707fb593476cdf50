import { loadArchiverConfig } from '../../../sinks/chat-archiver/config.ts';
import { dumpChatArchive } from '../../../sinks/chat-archiver/dump.ts';
import { rebuildChatArchive } from '../../../sinks/chat-archiver/replay.ts';
import type { StoreEntry } from '../store.ts';
import { openKeyspaceStore } from './keyspace-store.ts';

/** The chat archive: rebuilt into a keyspace of its own; readers switch by CHAT_KEYSPACE. */
export const chatStore: StoreEntry = {
  description: 'Cassandra chat history and per-minute stats (live.chat.messages); into a new keyspace',
  open() {
    const cfg = loadArchiverConfig();
    return openKeyspaceStore({
      name: 'chat',
      cfg,
      live: { keyspace: cfg.CHAT_KEYSPACE, variable: 'CHAT_KEYSPACE', readers: 'the chat gateways and archivers' },
      liveGroupId: cfg.CHAT_ARCHIVER_GROUP_ID,
      topic: 'chatMessages',
      ...(cfg.CHAT_REPLAY_KEYSPACE && { defaultInto: cfg.CHAT_REPLAY_KEYSPACE }),
      rebuild: (deps, o) =>
        rebuildChatArchive(deps, {
          ...o,
          limits: {
            maxRows: cfg.CHAT_ARCHIVER_BATCH_ROWS,
            maxBytes: cfg.CHAT_ARCHIVER_BATCH_BYTES,
            ttlSeconds: cfg.CHAT_RETENTION_DAYS * 86_400,
          },
          concurrency: cfg.CHAT_ARCHIVER_CONCURRENCY,
          maxRecords: cfg.CHAT_ARCHIVER_MAX_RECORDS,
          partitionsConcurrently: cfg.CHAT_ARCHIVER_PARTITIONS_AT_ONCE,
          deadlineMs: cfg.CHAT_REPLAY_DEADLINE_MS,
          replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
          localDc: cfg.CASSANDRA_LOCAL_DC,
        }),
      dump: dumpChatArchive,
    });
  },
};
