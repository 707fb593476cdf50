import type { Cassandra } from '../../platform/cassandra.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd, type GroupProgress } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { ChatArchiver } from './archiver.ts';
import type { BatchLimits } from './plan.ts';
import { ensureChatSchema } from '../../domain/chat/schema.ts';
import { ChatArchiveWriter } from './store.ts';

/**
 * Rebuilds the chat archive from live.chat.messages into `keyspace`: the same planner and writer
 * as the live archiver, in a one-off consumer group from the start of the topic, until that group
 * has committed the end offsets taken when it caught up. Every write is stamped with its event's
 * time and expiry, so the rebuilt tables equal what the live archiver wrote. Point the gateways
 * and the archiver at the new keyspace (CHAT_KEYSPACE) to switch over.
 */
export interface RebuildOptions {
  keyspace: string;
  /** Names the rebuild's consumer group: `<groupPrefix>.rebuild.<keyspace>`. */
  groupPrefix: string;
  limits: BatchLimits;
  concurrency: number;
  maxRecords: number;
  /** Partitions written at once (1 when absent). */
  partitionsConcurrently?: number;
  deadlineMs: number;
  replicationFactor: number;
  localDc: string;
  /** Rebuild the archive as it stood at this time (ms): later records are passed over. */
  until?: number;
  onProgress?: (p: GroupProgress) => void;
}

export async function rebuildChatArchive(
  deps: { bus: EventBus; db: Cassandra; log: Logger },
  opts: RebuildOptions,
): Promise<void> {
  const { bus, db, log } = deps;
  await ensureChatSchema(db, opts.keyspace, {
    replicationFactor: opts.replicationFactor,
    localDc: opts.localDc,
    ttlSeconds: opts.limits.ttlSeconds,
  });
  const groupId = `${opts.groupPrefix}.rebuild.${opts.keyspace}`;
  log.info({ keyspace: opts.keyspace, groupId }, 'rebuilding the chat archive from the topic');
  const archiver = new ChatArchiver(bus, new ChatArchiveWriter(db, opts.keyspace, opts.concurrency), {
    groupId,
    maxRecords: opts.maxRecords,
    limits: opts.limits,
    ...(opts.partitionsConcurrently !== undefined && { partitionsConcurrently: opts.partitionsConcurrently }),
    ...(opts.until !== undefined && { until: opts.until }),
  });
  try {
    await archiver.start();
    await waitForGroupToReachEnd(bus, groupId, [bus.topicName('chatMessages')], {
      deadlineMs: opts.deadlineMs,
      ...(opts.onProgress && { onProgress: opts.onProgress }),
    });
  } finally {
    await archiver.stop();
    await deleteConsumerGroup(bus, groupId, log);
  }
}
