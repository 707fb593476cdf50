import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchRows, planNotifications, rowBytes, type NotificationRow } from './plan.ts';
import { notificationsFor } from '../../domain/notifications/fanout.ts';

const TTL = 30 * 86_400;
const now = 1_700_000_100_000;
const rowsFor = (recipients: string[], streamId = 's1', title = 'hi'): NotificationRow[] =>
  planNotifications(
    notificationsFor(
      { streamId, startedAt: 1_700_000_000_000, streamerId: 'alice', streamerName: 'Alice', title },
      recipients,
      now,
    ),
    now,
    TTL,
  );
const users = (n: number): string[] => Array.from({ length: n }, (_, i) => `u${i}`);
const partitionsOf = (batch: NotificationRow[]): Set<string> => new Set(batch.map((r) => r.userId));
const sorted = (rows: NotificationRow[]): string[] => rows.map((r) => `${r.userId}/${r.notificationId}`).sort();

describe('batchRows', () => {
  it('puts every row in exactly one batch, at most maxPartitions recipients each', () => {
    const rows = rowsFor(users(95));
    const batches = batchRows(rows, () => 'a', { maxPartitions: 10, maxBytes: 1 << 20 });
    assert.deepEqual(
      batches.map((b) => b.length),
      [10, 10, 10, 10, 10, 10, 10, 10, 10, 5],
    );
    assert.deepEqual(sorted(batches.flat()), sorted(rows));
  });

  it('never mixes recipients whose replicas differ, and sends a recipient with unknown replicas alone', () => {
    const rows = rowsFor(users(40));
    const replicas = (u: string): string | null => (u === 'u7' ? null : Number(u.slice(1)) % 2 ? 'odd' : 'even');
    const batches = batchRows(rows, replicas, { maxPartitions: 10, maxBytes: 1 << 20 });
    for (const b of batches) {
      const sets = new Set(b.map((r) => replicas(r.userId)));
      assert.equal(sets.size, 1, JSON.stringify(b.map((r) => r.userId)));
      assert.ok(partitionsOf(b).size <= 10);
    }
    assert.deepEqual(
      batches.filter((b) => b.some((r) => r.userId === 'u7')).map((b) => b.map((r) => r.userId)),
      [['u7']],
    );
    assert.deepEqual(sorted(batches.flat()), sorted(rows));
  });

  it("keeps a recipient's rows together and counts them as one partition", () => {
    const rows = [...rowsFor(users(12)), ...rowsFor(['u3', 'u5'], 's2'), ...rowsFor(['u3'], 's3')];
    const batches = batchRows(rows, () => 'a', { maxPartitions: 10, maxBytes: 1 << 20 });
    assert.deepEqual(
      batches.map((b) => partitionsOf(b).size),
      [10, 2],
    );
    assert.equal(batches[0]!.filter((r) => r.userId === 'u3').length, 3);
    assert.deepEqual(sorted(batches.flat()), sorted(rows));
  });

  it('closes a batch before its estimated size passes maxBytes', () => {
    const rows = rowsFor(users(30), 's1', 'x'.repeat(300));
    const maxBytes = 1500;
    const batches = batchRows(rows, () => 'a', { maxPartitions: 10, maxBytes });
    assert.ok(batches.length > 3);
    for (const b of batches) assert.ok(b.reduce((n, r) => n + rowBytes(r), 0) <= maxBytes);
    assert.deepEqual(sorted(batches.flat()), sorted(rows));
  });
});
