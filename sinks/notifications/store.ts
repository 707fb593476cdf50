import type { Cassandra } from '../../platform/cassandra.ts';
import { eachLimit } from '../../platform/concurrency.ts';
import { batchRows, type BatchLimits, type NotificationRow } from './plan.ts';

/**
 * Writes planned notification rows. A go-live fan-out gives every recipient one row, each in its
 * own partition; one request per row cost Cassandra and the driver more than the rows themselves,
 * so rows go out in small unlogged batches of recipients that share their replicas (plan.ts
 * batchRows), `concurrency` batches in flight, each statement idempotent.
 */
export class NotificationWriter {
  private readonly insert: string;

  constructor(
    private readonly db: Cassandra,
    private readonly keyspace: string,
    private readonly concurrency: number,
    private readonly limits: BatchLimits = { maxPartitions: 40, maxBytes: 16_384 },
  ) {
    this.insert = `INSERT INTO ${keyspace}.notifications_by_user
      (user_id, notification_id, kind, stream_id, streamer_id, streamer_name, title) VALUES (?, ?, ?, ?, ?, ?, ?)
      USING TTL ? AND TIMESTAMP ?`;
  }

  async apply(rows: NotificationRow[]): Promise<void> {
    const batches = batchRows(rows, (userId) => this.db.replicaSetOf(this.keyspace, userId), this.limits);
    await eachLimit(batches, this.concurrency, async (batch) => {
      if (batch.length === 1) {
        await this.db.execute('write notification', this.insert, this.params(batch[0]!), { idempotent: true });
      } else {
        await this.db.unloggedBatch(
          'write notifications',
          batch.map((r) => ({ query: this.insert, params: this.params(r) })),
          { idempotent: true },
        );
      }
    });
  }

  private params(r: NotificationRow): unknown[] {
    return [r.userId, r.notificationId, r.kind, r.streamId, r.streamerId, r.streamerName, r.title, r.ttl, r.writeTime];
  }
}
