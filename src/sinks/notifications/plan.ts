import type { NotificationCreated } from '../../../schemas/generated/events.ts';
import { timeOfTimeUuid } from '../../platform/timeuuid.ts';

/**
 * The notifications sink's pure core: events in, row writes out. A row is keyed by
 * (recipient, notification id), so the same notification written twice is one row. Its write
 * time is the event's occurredAt and its TTL what is left of the retention counted from the
 * notification's own time (in its id): live, redelivered or replayed, the rows come out the same
 * and expire at the same moment. Already expired ones are not written at all.
 */
export interface NotificationRow {
  userId: string;
  notificationId: string;
  kind: string;
  streamId: string;
  streamerId: string;
  streamerName: string;
  title: string;
  ttl: number;
  writeTime: number;
}

export function planNotifications(events: NotificationCreated[], now: number, ttlSeconds: number): NotificationRow[] {
  const rows = new Map<string, NotificationRow>();
  for (const e of events) {
    const ttl = Math.ceil(ttlSeconds - (now - timeOfTimeUuid(e.notificationId)) / 1000);
    if (ttl <= 0) continue;
    const row: NotificationRow = {
      userId: e.recipientId,
      notificationId: e.notificationId,
      kind: e.kind,
      streamId: e.streamId,
      streamerId: e.streamerId,
      streamerName: e.streamerName,
      title: e.title,
      ttl,
      writeTime: e.occurredAt * 1000,
    };
    // A re-sent notification in the same chunk: the later write time would win in Cassandra too.
    const key = `${row.userId}\u0000${row.notificationId}`;
    const prev = rows.get(key);
    if (!prev || prev.writeTime <= row.writeTime) rows.set(key, row);
  }
  return [...rows.values()];
}
