import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRedrive, type DeadLetter } from './plan.ts';

const letter = (partition: number, offset: number, decodes: boolean): DeadLetter => ({
  partition,
  offset,
  decodes,
  reason: decodes ? 'handler-failed' : 'undecodable',
});

describe('planRedrive', () => {
  it('sends what decodes, stops a partition at the first record nobody fixed, never commits past it', () => {
    const plan = planRedrive([letter(0, 5, true), letter(0, 6, false), letter(0, 7, true), letter(1, 2, true)], []);
    assert.deepEqual(
      plan.actions.map((a) => [a.letter.partition, a.letter.offset, a.send]),
      [
        [0, 5, 'as-is'],
        [1, 2, 'as-is'],
      ],
    );
    assert.deepEqual(
      plan.stuck.map((s) => [s.partition, s.offset]),
      [[0, 6]],
    );
    assert.deepEqual(
      [...plan.commits],
      [
        [0, 6],
        [1, 3],
      ],
    );
  });

  it('a fix from the file unblocks the partition; unmatched fixes are reported', () => {
    const plan = planRedrive(
      [letter(0, 7, true), letter(0, 6, false)],
      [
        { partition: 0, offset: 6, value: { ok: 1 } },
        { partition: 3, offset: 1, value: {} },
      ],
    );
    assert.deepEqual(
      plan.actions.map((a) => [a.letter.offset, a.send]),
      [
        [6, 'fixed'],
        [7, 'as-is'],
      ],
    );
    assert.deepEqual(plan.stuck, []);
    assert.deepEqual([...plan.commits], [[0, 8]]);
    assert.deepEqual(plan.unusedFixes, [{ partition: 3, offset: 1, value: {} }]);
  });

  it('sends one copy of a record that several consumer groups dead-lettered, and commits past the others', () => {
    const copy = (partition: number, offset: number, origin: string): DeadLetter => ({
      ...letter(partition, offset, true),
      origin,
    });
    const plan = planRedrive(
      [
        copy(0, 1, 'live.chat.messages/2@40'),
        copy(0, 2, 'live.chat.messages/2@40'),
        copy(0, 3, 'live.chat.messages/2@41'),
      ],
      [],
    );
    assert.deepEqual(
      plan.actions.map((a) => a.letter.offset),
      [1, 3],
    );
    assert.deepEqual(
      plan.copies.map((c) => c.offset),
      [2],
    );
    assert.deepEqual([...plan.commits], [[0, 4]]);
  });

  it('nothing pending is nothing to do', () => {
    const plan = planRedrive([], []);
    assert.deepEqual([plan.actions, plan.stuck, [...plan.commits]], [[], [], []]);
  });
});
