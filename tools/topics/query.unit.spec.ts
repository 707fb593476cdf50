import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, parseWhere, valueAt } from './query.ts';

const created = { streamId: 's1', payload: { type: 'StreamCreated', category: 'Gaming', tags: ['a'] } };
const ended = { streamId: 's2', payload: { type: 'StreamEnded', reason: 'STREAMER_ENDED' } };

describe('topic tool queries', () => {
  it('reads nested values by dot path', () => {
    assert.equal(valueAt(created, 'payload.category'), 'Gaming');
    assert.equal(valueAt(created, 'payload.nope.deeper'), undefined);
  });

  it('filters with =, != and ~ (all must hold)', () => {
    assert.equal(parseWhere(['payload.type=StreamCreated'])(created), true);
    assert.equal(parseWhere(['payload.type=StreamCreated'])(ended), false);
    assert.equal(parseWhere(['payload.type!=StreamCreated', 'streamId~S2'])(ended), true);
    assert.equal(parseWhere(['payload.tags~"a"'])(created), true);
    assert.throws(() => parseWhere(['nonsense']), /use field=value/);
  });

  it('counts totals and groups, largest first', () => {
    const c = new Counter('payload.type');
    for (const e of [created, ended, created]) c.add(e);
    assert.deepEqual(c.result(), {
      total: 3,
      groups: [
        { key: 'StreamCreated', count: 2 },
        { key: 'StreamEnded', count: 1 },
      ],
    });
  });
});
