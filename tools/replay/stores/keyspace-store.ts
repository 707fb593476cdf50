import type { TopicKey } from '../../../schemas/topics.ts';
import { Cassandra, type CassandraConfig } from '../../../platform/cassandra.ts';
import { waitForGroupToReachEnd, type GroupProgress } from '../../../platform/kafka/groups.ts';
import type { EventBus } from '../../../platform/kafka/bus.ts';
import { busFromConfig } from '../../../platform/infra-config.ts';
import { createLogger, type Logger } from '../../../platform/logger.ts';
import { Metrics } from '../../../platform/metrics.ts';
import type { ReplayStore } from '../store.ts';

/**
 * The shape every Cassandra-backed store shares: it is rebuilt into a keyspace of its own (never
 * the live one), the live sink's consumer group tells when the live keyspace has caught up, and
 * readers switch by pointing a keyspace variable at the rebuilt one.
 */
export interface KeyspaceRebuild {
  keyspace: string;
  /** The live sink's consumer group; the rebuild's group is named after it. */
  groupPrefix: string;
  until?: number;
  onProgress?: (p: GroupProgress) => void;
}

export interface KeyspaceStoreSpec {
  name: string;
  cfg: CassandraConfig & {
    KAFKA_BROKERS: string[];
    SCHEMA_REGISTRY_URL: string;
    LIVE_TOPIC_PREFIX: string;
    LOG_LEVEL: string;
  };
  /** The keyspace the live services use, and the variable that names it. */
  live: { keyspace: string; variable: string; readers: string };
  /** The live sink's consumer group id (without the topic prefix) and the topic it reads. */
  liveGroupId: string;
  topic: TopicKey;
  /** Used by a rebuild in 'swap' mode when --into is absent. */
  defaultInto?: string;
  rebuild(deps: { bus: EventBus; db: Cassandra; log: Logger }, opts: KeyspaceRebuild): Promise<void>;
  dump(db: Cassandra, keyspace: string): Promise<Map<string, unknown>>;
  /** Extra words for the switch-over note. */
  switchNote?: string;
}

export async function openKeyspaceStore(spec: KeyspaceStoreSpec): Promise<ReplayStore> {
  const { cfg, live } = spec;
  const log = createLogger('replay', cfg.LOG_LEVEL);
  const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
  const db = new Cassandra(cfg);
  await db.connect();
  const groupPrefix = `${cfg.LIVE_TOPIC_PREFIX}${spec.liveGroupId}`;
  return {
    name: spec.name,
    async rebuild(req) {
      const target =
        req.into ??
        (req.mode === 'swap' ? spec.defaultInto : undefined) ??
        `${live.keyspace}_r${Date.now().toString(36)}`;
      if (target === live.keyspace) throw new Error(`give --into a keyspace other than the live one (${target})`);
      await spec.rebuild(
        { bus, db, log },
        {
          keyspace: target,
          groupPrefix,
          ...(req.asOf !== undefined && { until: req.asOf }),
          ...(req.onProgress && { onProgress: req.onProgress }),
        },
      );
      const note = `set ${live.variable}=${target} on ${live.readers} to switch${spec.switchNote ? ` ${spec.switchNote}` : ''}`;
      return { target, notes: req.mode === 'swap' ? [note] : [] };
    },
    async settledLiveTarget() {
      await waitForGroupToReachEnd(bus, groupPrefix, [bus.topicName(spec.topic)], { deadlineMs: 120_000 });
      return live.keyspace;
    },
    dump: (keyspace) => spec.dump(db, keyspace),
    drop: (keyspace) => db.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`),
    close: () => db.shutdown(),
  };
}
