import type { Cassandra, Statement } from '../../platform/cassandra.ts';
import { mapLimit } from '../../platform/concurrency.ts';
import type { NotificationRow } from './plan.ts';

/**
 * Writes planned notification rows. A go-live fan-out gives every recipient one row, each in its
 * own partition, so rows go out as single idempotent inserts, `concurrency` in flight; the rare
 * recipient with several rows in one chunk gets one unlogged batch (one partition).
 */
export class NotificationWriter {
  private readonly insert: string;

  constructor(
    private readonly db: Cassandra,
    keyspace: string,
    private readonly concurrency: number,
  ) {
    this.insert = `INSERT INTO ${keyspace}.notifications_by_user
      (user_id, notification_id, kind, stream_id, streamer_id, streamer_name, title) VALUES (?, ?, ?, ?, ?, ?, ?)
      USING TTL ? AND TIMESTAMP ?`;
  }

  async apply(rows: NotificationRow[]): Promise<void> {
    const byUser = new Map<string, Statement[]>();
    for (const r of rows) {
      const list = byUser.get(r.userId) ?? [];
      list.push({
        query: this.insert,
        params: [
          r.userId,
          r.notificationId,
          r.kind,
          r.streamId,
          r.streamerId,
          r.streamerName,
          r.title,
          r.ttl,
          r.writeTime,
        ],
      });
      byUser.set(r.userId, list);
    }
    await mapLimit([...byUser.values()], this.concurrency, async (statements) => {
      if (statements.length === 1) {
        const s = statements[0]!;
        await this.db.execute('write notification', s.query, s.params, { idempotent: true });
      } else {
        await this.db.unloggedBatch('write notifications', statements, { idempotent: true });
      }
    });
  }
}
