import { loadFollowsSinkConfig } from '../../../sinks/follows/config.ts';
import { dumpFollowGraph, rebuildFollowGraph } from '../../../sinks/follows/replay.ts';
import type { StoreEntry } from '../store.ts';
import { openKeyspaceStore } from './keyspace-store.ts';

/** The follower graph: rebuilt into a keyspace of its own; readers switch by FOLLOWS_KEYSPACE. */
export const followsStore: StoreEntry = {
  description: 'Cassandra follower graph and counts (live.user.follows); into a new keyspace',
  open() {
    const cfg = loadFollowsSinkConfig();
    return openKeyspaceStore({
      name: 'follows',
      cfg,
      live: {
        keyspace: cfg.FOLLOWS_KEYSPACE,
        variable: 'FOLLOWS_KEYSPACE',
        readers: 'the API, notifier and follows sink',
      },
      liveGroupId: cfg.FOLLOWS_SINK_GROUP_ID,
      topic: 'userFollows',
      rebuild: (deps, o) =>
        rebuildFollowGraph(deps, {
          ...o,
          maxRecords: cfg.FOLLOWS_SINK_MAX_RECORDS,
          concurrency: cfg.FOLLOWS_SINK_CONCURRENCY,
          deadlineMs: cfg.FOLLOWS_REPLAY_DEADLINE_MS,
          replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
          localDc: cfg.CASSANDRA_LOCAL_DC,
        }),
      dump: dumpFollowGraph,
    });
  },
};
