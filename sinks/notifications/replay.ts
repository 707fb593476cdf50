import type { Cassandra } from '../../platform/cassandra.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd, type GroupProgress } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BatchLimits } from './plan.ts';
import { ensureNotificationsSchema } from '../../domain/notifications/schema.ts';
import { NotificationsSink } from './sink.ts';
import { NotificationWriter } from './store.ts';

/**
 * Rebuilds every user's notifications from live.notifications into `keyspace` with the live
 * sink's planner and writer (rows stamped with event time, TTL counted from the notification), in
 * a one-off group, until it reaches the end offsets taken when it caught up. Read flags are user
 * state the topic does not hold: rebuilt notifications are unread.
 */
export interface NotificationsRebuildOptions {
  keyspace: string;
  groupPrefix: string;
  maxRecords: number;
  concurrency: number;
  /** Batch shape, as the live sink's (NotificationWriter's defaults when absent). */
  batch?: BatchLimits;
  ttlSeconds: number;
  deadlineMs: number;
  replicationFactor: number;
  localDc: string;
  until?: number;
  onProgress?: (p: GroupProgress) => void;
}

export async function rebuildNotifications(
  deps: { bus: EventBus; db: Cassandra; log: Logger },
  opts: NotificationsRebuildOptions,
): Promise<void> {
  const { bus, db, log } = deps;
  await ensureNotificationsSchema(db, opts.keyspace, {
    replicationFactor: opts.replicationFactor,
    localDc: opts.localDc,
    ttlSeconds: opts.ttlSeconds,
  });
  const groupId = `${opts.groupPrefix}.rebuild.${opts.keyspace}`;
  log.info({ keyspace: opts.keyspace, groupId }, 'rebuilding notifications from the topic');
  const sink = new NotificationsSink(bus, new NotificationWriter(db, opts.keyspace, opts.concurrency, opts.batch), {
    groupId,
    maxRecords: opts.maxRecords,
    ttlSeconds: opts.ttlSeconds,
    commitIntervalMs: 1000,
    ...(opts.until !== undefined && { until: opts.until }),
  });
  try {
    await sink.start();
    await waitForGroupToReachEnd(bus, groupId, [bus.topicName('notifications')], {
      deadlineMs: opts.deadlineMs,
      ...(opts.onProgress && { onProgress: opts.onProgress }),
    });
  } finally {
    await sink.stop();
    await deleteConsumerGroup(bus, groupId, log);
  }
}

/** Every notification row with its write time (not TTLs: they count down), keyed by user and id. */
export async function dumpNotifications(db: Cassandra, ks: string): Promise<Map<string, unknown>> {
  const rows = await db.scan(
    'dump notifications',
    `SELECT user_id, notification_id, kind, stream_id, streamer_id, streamer_name, title, read,
       WRITETIME(title) AS at FROM ${ks}.notifications_by_user`,
  );
  return new Map(rows.map((r) => [`${String(r.user_id)}/${String(r.notification_id)}`, r]));
}
