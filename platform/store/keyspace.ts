import type { TopicKey } from '../../schemas/topics.ts';
import type { Cassandra } from '../cassandra.ts';
import { waitForGroupToReachEnd } from '../kafka/groups.ts';
import type { EventBus } from '../kafka/bus.ts';
import type { DerivedStore, StoreWriter, WriterOptions } from './definition.ts';

/**
 * What every Cassandra-backed store shares: the live keyspace is named by a variable its readers
 * share; a rebuild goes into a keyspace of its own (never the live one), and readers switch by
 * pointing that variable at it; the live writer's group tells when the live keyspace has caught up.
 */
export interface KeyspaceStoreSpec {
  name: string;
  bus: EventBus;
  db: Cassandra;
  topic: TopicKey;
  liveGroupId: string;
  /** The keyspace the live services use, the variable that names it, and who reads it. */
  live: { keyspace: string; variable: string; readers: string };
  /** Used by a 'swap' rebuild when --into is absent. */
  defaultInto?: string;
  /** Extra words for the switch-over note. */
  switchNote?: string;
  /** Creates the keyspace and its tables (idempotent). */
  ensureSchema(keyspace: string): Promise<void>;
  writer(keyspace: string, opts: WriterOptions): StoreWriter;
  dump(keyspace: string): Promise<Map<string, unknown>>;
}

export function keyspaceStore(spec: KeyspaceStoreSpec): DerivedStore {
  const { bus, db, live } = spec;
  /** Targets this process created (they did not exist before `createTarget`). */
  const made = new Set<string>();
  return {
    name: spec.name,
    topics: [spec.topic],
    liveGroupId: spec.liveGroupId,
    live: live.keyspace,
    connect: () => db.connect(),
    prepareLive: () => spec.ensureSchema(live.keyspace),
    writer: (keyspace, opts) => spec.writer(keyspace, { ...opts, fresh: !opts.live && made.has(keyspace) }),
    async createTarget(req) {
      const target =
        req.into ??
        (req.mode === 'swap' ? spec.defaultInto : undefined) ??
        `${live.keyspace}_r${Date.now().toString(36)}`;
      if (target === live.keyspace) throw new Error(`give --into a keyspace other than the live one (${target})`);
      const existed = await db.hasKeyspace(target);
      await spec.ensureSchema(target);
      if (!existed) made.add(target);
      return target;
    },
    async swapIn(target) {
      return [
        `set ${live.variable}=${target} on ${live.readers} to switch${spec.switchNote ? ` ${spec.switchNote}` : ''}`,
      ];
    },
    async settledLive() {
      await waitForGroupToReachEnd(bus, spec.liveGroupId, [bus.topicName(spec.topic)], { deadlineMs: 120_000 });
      return live.keyspace;
    },
    dump: (keyspace) => spec.dump(keyspace),
    drop: (keyspace) => db.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`),
    close: () => db.shutdown(),
  };
}
