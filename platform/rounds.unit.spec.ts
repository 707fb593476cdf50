import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PoisonRecordError, TransientError } from './errors.ts';
import { Rounds } from './rounds.ts';

describe('rounds (group commit)', () => {
  it('writes what several callers hand over at once in one round, and settles each after it', async () => {
    const writes: number[][] = [];
    const rounds = new Rounds<number>(async (items) => void writes.push(items), 100);
    await Promise.all([rounds.submit([1, 2]), rounds.submit([3]), rounds.submit([4, 5])]);
    assert.deepEqual(writes, [[1, 2, 3, 4, 5]]);
  });

  it('what is handed over during a write waits for the next round', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const rounds = new Rounds<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await first;
    }, 100);
    const a = rounds.submit([1]);
    await new Promise((r) => setImmediate(r));
    const b = rounds.submit([2]);
    const c = rounds.submit([3]);
    release();
    await Promise.all([a, b, c]);
    assert.deepEqual(writes, [[1], [2, 3]]);
  });

  it('cuts a round once it holds maxItems, never splitting a caller', async () => {
    const writes: number[][] = [];
    const rounds = new Rounds<number>(async (items) => void writes.push(items), 3);
    await Promise.all([rounds.submit([1, 2]), rounds.submit([3, 4]), rounds.submit([5])]);
    assert.deepEqual(writes, [[1, 2, 3, 4], [5]]);
  });

  it('a retriable failure fails every caller of the round', async () => {
    const rounds = new Rounds<number>(async () => {
      throw new TransientError('down');
    }, 100);
    const results = await Promise.allSettled([rounds.submit([1]), rounds.submit([2])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });

  it('any other failure is retried per caller: only the one whose items cannot be written hears of it', async () => {
    const writes: number[][] = [];
    const rounds = new Rounds<number>(async (items) => {
      writes.push(items);
      if (items.includes(13)) throw new PoisonRecordError('refused', 'invalid');
    }, 100);
    const results = await Promise.allSettled([rounds.submit([1, 2]), rounds.submit([13]), rounds.submit([3])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(writes, [[1, 2, 13, 3], [1, 2], [13], [3]]);
  });

  it('with two in flight, the next round is cut while the one before is writing', async () => {
    const started: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const rounds = new Rounds<number>(
      async (items) => {
        started.push(items);
        if (started.length === 1) await first;
      },
      100,
      2,
    );
    const a = rounds.submit([1]);
    await new Promise((r) => setImmediate(r));
    const b = rounds.submit([2]);
    await b;
    assert.deepEqual(started, [[1], [2]], 'the second round was written before the first finished');
    release();
    await a;
  });
});
