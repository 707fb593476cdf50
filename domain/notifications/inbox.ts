import type { Cassandra, Row } from '../../platform/cassandra.ts';
import { timeOfTimeUuid } from '../../platform/timeuuid.ts';

/**
 * A user's notifications as the API shows them: newest first, paged by the last id seen, and the
 * read flag. Marking read touches only notifications that exist (an UPDATE of a missing row
 * would create one) and gives the flag what is left of the row's life, so it never outlives it.
 */
export interface Notification {
  notificationId: string;
  kind: string;
  streamId: string;
  streamerId: string;
  streamerName: string;
  title: string;
  /** Epoch ms: the go-live time, from the id. */
  createdAt: number;
  read: boolean;
}

export class Inbox {
  private readonly q: ReturnType<typeof queries>;

  constructor(
    private readonly db: Cassandra,
    keyspace: string,
    private readonly ttlSeconds: number,
  ) {
    this.q = queries(keyspace);
  }

  async page(
    userId: string,
    before: string | null,
    limit: number,
  ): Promise<{ notifications: Notification[]; next: string | null }> {
    const rows = before
      ? await this.read(this.q.before, [userId, before, limit + 1])
      : await this.read(this.q.newest, [userId, limit + 1]);
    const notifications = rows.slice(0, limit).map(toNotification);
    return {
      notifications,
      next: rows.length > limit ? notifications[notifications.length - 1]!.notificationId : null,
    };
  }

  /** Marks the given notifications of `userId` read; returns how many of them exist. */
  async markRead(userId: string, ids: string[], now = Date.now()): Promise<number> {
    if (!ids.length) return 0;
    const found = (await this.read(this.q.existing, [userId, ids])).map((r) => r.notification_id as string);
    const statements = found
      .map((id) => ({ id, ttl: Math.ceil(this.ttlSeconds - (now - timeOfTimeUuid(id)) / 1000) }))
      .filter((x) => x.ttl > 0)
      .map((x) => ({ query: this.q.markRead, params: [x.ttl, userId, x.id] }));
    await this.db.unloggedBatch('mark notifications read', statements, { idempotent: true });
    return found.length;
  }

  private read(query: string, params: unknown[]): Promise<Row[]> {
    return this.db.execute('read notifications', query, params, { idempotent: true });
  }
}

const COLUMNS = 'notification_id, kind, stream_id, streamer_id, streamer_name, title, read';

function toNotification(r: Row): Notification {
  const id = r.notification_id as string;
  return {
    notificationId: id,
    kind: r.kind as string,
    streamId: r.stream_id as string,
    streamerId: r.streamer_id as string,
    streamerName: r.streamer_name as string,
    title: r.title as string,
    createdAt: timeOfTimeUuid(id),
    read: r.read === true,
  };
}

function queries(ks: string) {
  const from = `FROM ${ks}.notifications_by_user WHERE user_id = ?`;
  return {
    newest: `SELECT ${COLUMNS} ${from} LIMIT ?`,
    before: `SELECT ${COLUMNS} ${from} AND notification_id < ? LIMIT ?`,
    existing: `SELECT notification_id ${from} AND notification_id IN ?`,
    markRead: `UPDATE ${ks}.notifications_by_user USING TTL ? SET read = true WHERE user_id = ? AND notification_id = ?`,
  };
}
