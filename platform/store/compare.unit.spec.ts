import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedFields, compareDumps } from './compare.ts';

describe('compareDumps', () => {
  it('finds missing, extra and changed records, in key order', () => {
    const live = new Map<string, unknown>([
      ['b', { n: 1, t: 'x' }],
      ['a', { n: 1 }],
      ['c', { n: 3 }],
    ]);
    const rebuilt = new Map<string, unknown>([
      ['a', { n: 1 }],
      ['b', { n: 2, t: 'x' }],
      ['d', { n: 4 }],
    ]);
    assert.deepEqual(
      compareDumps(live, rebuilt).map((d) => [d.key, d.kind]),
      [
        ['b', 'changed'],
        ['c', 'only-live'],
        ['d', 'only-rebuilt'],
      ],
    );
    assert.deepEqual(changedFields(live.get('b'), rebuilt.get('b')), ['n']);
  });

  it('equal stores have no differences, whatever the insertion order', () => {
    const a = new Map<string, unknown>([
      ['x', { tags: ['a', 'b'], at: new Date(5) }],
      ['y', null],
    ]);
    const b = new Map<string, unknown>([
      ['y', null],
      ['x', { tags: ['a', 'b'], at: new Date(5) }],
    ]);
    assert.deepEqual(compareDumps(a, b), []);
  });
});
