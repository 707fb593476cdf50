import type { NotificationCreated } from '../../schemas/generated/events.ts';
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

export interface BatchLimits {
  /** Partitions (recipients) per unlogged batch, at most. */
  maxPartitions: number;
  /** Estimated bytes per batch, at most (a recipient's rows are never split to keep it). */
  maxBytes: number;
}

/**
 * Splits planned rows into unlogged batches. A batch only ever holds recipients whose partitions
 * live on the same replicas (`replicaSetOf`, from the driver's token map; null when unknown, then
 * the recipient goes alone), so the coordinator, itself one of those replicas, applies every row
 * as the token-aware driver would have sent it anyway: the batch saves requests, not hops. Every
 * row keeps its own write time and TTL and rewrites the same cells when sent again, so a batch
 * that fails half-applied is simply sent again with the rest of the chunk. Up to `maxPartitions`
 * partitions and `maxBytes` per batch keep Cassandra's warnings quiet
 * (unlogged_batch_across_partitions_warn_threshold, 10; batch_size_warn_threshold, 5 KiB).
 */
export function batchRows(
  rows: NotificationRow[],
  replicaSetOf: (userId: string) => string | null,
  limits: BatchLimits,
): NotificationRow[][] {
  const byUser = new Map<string, NotificationRow[]>();
  for (const r of rows) {
    const list = byUser.get(r.userId);
    if (list) list.push(r);
    else byUser.set(r.userId, [r]);
  }
  const out: NotificationRow[][] = [];
  const open = new Map<string, { rows: NotificationRow[]; partitions: number; bytes: number }>();
  for (const [userId, own] of byUser) {
    const replicas = replicaSetOf(userId);
    if (replicas === null) {
      out.push(own);
      continue;
    }
    const bytes = own.reduce((n, r) => n + rowBytes(r), 0);
    let batch = open.get(replicas);
    if (batch && (batch.partitions >= limits.maxPartitions || batch.bytes + bytes > limits.maxBytes)) {
      out.push(batch.rows);
      batch = undefined;
    }
    if (!batch) {
      batch = { rows: [], partitions: 0, bytes: 0 };
      open.set(replicas, batch);
    }
    batch.rows.push(...own);
    batch.partitions++;
    batch.bytes += bytes;
  }
  for (const b of open.values()) out.push(b.rows);
  return out;
}

const ROW_OVERHEAD_BYTES = 64;

/** An estimate of a row's size in a batch: its text plus a fixed allowance for the id, TTL and cell headers. */
export function rowBytes(r: NotificationRow): number {
  return (
    ROW_OVERHEAD_BYTES +
    Buffer.byteLength(r.userId) +
    Buffer.byteLength(r.streamId) +
    Buffer.byteLength(r.streamerId) +
    Buffer.byteLength(r.streamerName) +
    Buffer.byteLength(r.title) +
    r.kind.length
  );
}
