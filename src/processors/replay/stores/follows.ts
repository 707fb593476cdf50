import { Cassandra } from '../../../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../../../platform/consumer-groups.ts';
import { busFromConfig } from '../../../platform/infra-config.ts';
import { createLogger } from '../../../platform/logger.ts';
import { Metrics } from '../../../platform/metrics.ts';
import { loadFollowsSinkConfig } from '../../../sinks/follows/config.ts';
import { dumpFollowGraph, rebuildFollowGraph } from '../../../sinks/follows/replay.ts';
import type { ReplayStore, StoreEntry } from '../store.ts';

/** The follower graph: rebuilt into a keyspace of its own; readers switch by FOLLOWS_KEYSPACE. */
export const followsStore: StoreEntry = {
  description: 'Cassandra follower graph and counts (live.user.follows); into a new keyspace',
  async open(): Promise<ReplayStore> {
    const cfg = loadFollowsSinkConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const db = new Cassandra(cfg);
    await db.connect();
    const groupPrefix = `${cfg.LIVE_TOPIC_PREFIX}${cfg.FOLLOWS_SINK_GROUP_ID}`;
    return {
      name: 'follows',
      async rebuild(req) {
        const target = req.into ?? `${cfg.FOLLOWS_KEYSPACE}_r${Date.now().toString(36)}`;
        if (target === cfg.FOLLOWS_KEYSPACE)
          throw new Error(`give --into a keyspace other than the live one (${target})`);
        await rebuildFollowGraph(
          { bus, db, log },
          {
            keyspace: target,
            groupPrefix,
            maxRecords: cfg.FOLLOWS_SINK_MAX_RECORDS,
            concurrency: cfg.FOLLOWS_SINK_CONCURRENCY,
            deadlineMs: cfg.FOLLOWS_REPLAY_DEADLINE_MS,
            replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
            localDc: cfg.CASSANDRA_LOCAL_DC,
            ...(req.asOf !== undefined && { until: req.asOf }),
            ...(req.onProgress && { onProgress: req.onProgress }),
          },
        );
        return {
          target,
          notes:
            req.mode === 'swap'
              ? [`set FOLLOWS_KEYSPACE=${target} on the API, notifier and follows sink to switch`]
              : [],
        };
      },
      async settledLiveTarget() {
        await waitForGroupToReachEnd(bus, groupPrefix, [bus.topicName('userFollows')], { deadlineMs: 120_000 });
        return cfg.FOLLOWS_KEYSPACE;
      },
      dump: (keyspace) => dumpFollowGraph(db, keyspace),
      drop: (keyspace) => db.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`),
      close: () => db.shutdown(),
    };
  },
};
