import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MinuteWrite } from './plan.ts';
import { MinuteTallies } from './tally.ts';

const M = Date.UTC(2026, 1, 2, 10, 0);
const round = (minute: number, sent: Array<[string, string]>, streamId = 's1'): MinuteWrite => ({
  streamId,
  minute,
  ttl: 100,
  sent: sent.map(([messageId, userId]) => ({ messageId, userId })),
});
const counts = (t: { ids: Set<string>; users: Set<string> } | undefined): [number, number] | undefined =>
  t && [t.ids.size, t.users.size];

describe('per-minute tallies', () => {
  it('a minute met for the first time must be read back; then rounds add to what was read', () => {
    const tallies = new MinuteTallies();
    const first = round(M, [['m1', 'a']]);
    assert.equal(tallies.add(first, 0), undefined);
    // The read-back holds the round's own row and one an earlier process wrote.
    const t = tallies.seed(first, [{ messageId: 'm0', userId: 'b' }, ...first.sent], 0);
    assert.deepEqual(counts(t), [2, 2]);
    assert.deepEqual(
      counts(
        tallies.add(
          round(M, [
            ['m2', 'a'],
            ['m3', 'c'],
          ]),
          1,
        ),
      ),
      [4, 3],
    );
  });

  it('a redelivered round counts nothing twice', () => {
    const tallies = new MinuteTallies();
    const r = round(M, [
      ['m1', 'a'],
      ['m2', 'b'],
    ]);
    tallies.seed(r, r.sent, 0);
    assert.deepEqual(counts(tallies.add(r, 1)), [2, 2]);
    assert.deepEqual(counts(tallies.add(round(M, [['m2', 'b']]), 2)), [2, 2]);
  });

  it('keeps streams and minutes apart', () => {
    const tallies = new MinuteTallies();
    tallies.seed(round(M, []), [{ messageId: 'm1', userId: 'a' }], 0);
    assert.equal(tallies.add(round(M, [['x1', 'a']], 's2'), 0), undefined);
    assert.equal(tallies.add(round(M + 60_000, [['m2', 'a']]), 0), undefined);
    assert.deepEqual(counts(tallies.add(round(M, []), 0)), [1, 1]);
  });

  it('drops minutes a stream has moved past and minutes left idle, so they are read back if met again', () => {
    const tallies = new MinuteTallies({ keepMinutes: 2, idleMs: 1000 });
    for (const minute of [M, M + 60_000, M + 120_000]) tallies.seed(round(minute, []), [], 0);
    tallies.add(round(M + 180_000, []), 0);
    tallies.evict(0);
    assert.equal(tallies.size, 2, 'the minute three behind the newest is gone');
    assert.equal(tallies.add(round(M, []), 0), undefined);
    assert.ok(tallies.add(round(M + 120_000, []), 500));
    tallies.evict(1200);
    assert.equal(tallies.size, 1, 'only the minute touched within the idle time is left');
    assert.ok(tallies.add(round(M + 120_000, []), 1300));
  });

  it('forgets everything when the partitions are reassigned', () => {
    const tallies = new MinuteTallies();
    tallies.seed(round(M, []), [{ messageId: 'm1', userId: 'a' }], 0);
    tallies.clear();
    assert.equal(tallies.add(round(M, [['m2', 'a']]), 0), undefined);
  });

  it('in a target they count alone, a minute never tallied needs no read, until something is dropped or forgotten', () => {
    const tallies = new MinuteTallies({ keepMinutes: 2, idleMs: 1000 }, { complete: true });
    tallies.clear(); // the first assignment: nothing counted yet, nothing lost
    assert.equal(tallies.unseen(round(M, [['m1', 'a']])), true);
    tallies.seed(round(M, [['m1', 'a']]), [{ messageId: 'm1', userId: 'a' }], 0);
    tallies.add(round(M + 180_000, []), 0);
    tallies.evict(0);
    assert.equal(tallies.unseen(round(M, [['m9', 'a']])), false, 'a dropped minute may hold rows: read it');
    assert.equal(tallies.unseen(round(M + 240_000, [])), true, 'a newer minute cannot');
    assert.equal(tallies.unseen(round(M, [], 's2')), true, 'nor another stream');
    tallies.clear();
    assert.equal(tallies.unseen(round(M + 300_000, [])), false, 'after a rebalance, every minute is read back');
  });

  it('elsewhere, every minute met for the first time is read back', () => {
    assert.equal(new MinuteTallies().unseen(round(M, [['m1', 'a']])), false);
  });
});
