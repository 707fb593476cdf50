import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../platform/validation.ts';
import { SEARCH_SORT, categoriesBody, searchBody } from './query.ts';
import { decodeCursor, encodeCursor, fingerprintOf } from './search-cursor.ts';

describe('discovery query builders', () => {
  it('without text: filters only, live first by viewers, stream id last, one extra hit to detect a next page', () => {
    assert.deepEqual(searchBody({ statuses: ['live', 'ready'], limit: 20 }), {
      size: 21,
      track_total_hits: true,
      query: { bool: { must: [], filter: [{ terms: { status: ['live', 'ready'] } }] } },
      sort: [{ status_rank: 'asc' }, { viewer_count: 'desc' }, { created_at: 'desc' }, { stream_id: 'asc' }],
    });
  });

  it('text goes into match queries as data (fuzzy AND, or fuzzy AND with a prefix last word), never query syntax', () => {
    const body = searchBody({
      text: 'status:ended OR *',
      category: 'gaming',
      minViewers: 100,
      statuses: ['live'],
      limit: 5,
      after: [0, 10, 5, 'stream_x'],
    });
    assert.deepEqual(body.query, {
      bool: {
        must: [
          {
            bool: {
              should: [
                { match: { search_text: { query: 'status:ended OR *', fuzziness: 'AUTO', operator: 'and' } } },
                {
                  match_bool_prefix: {
                    search_text: { query: 'status:ended OR *', fuzziness: 'AUTO', operator: 'and' },
                  },
                },
              ],
              minimum_should_match: 1,
            },
          },
        ],
        filter: [
          { terms: { status: ['live'] } },
          { term: { category: 'gaming' } },
          { range: { viewer_count: { gte: 100 } } },
        ],
      },
    });
    assert.deepEqual(body.search_after, [0, 10, 5, 'stream_x']);
    assert.ok(!('from' in body), 'never from+size');
    assert.equal(JSON.stringify(SEARCH_SORT).includes('stream_id'), true);
  });

  it('categories: live streams only, ranked by summed viewers, ties by name', () => {
    const body = categoriesBody(10);
    assert.deepEqual(body.query, { bool: { filter: [{ term: { status: 'live' } }] } });
    assert.deepEqual((body.aggs!.categories!.terms as { order: unknown }).order, [
      { viewers: 'desc' },
      { _key: 'asc' },
    ]);
  });
});

describe('search cursor', () => {
  const fp = fingerprintOf(['dark', 'gaming']);

  it('round-trips the sort values as opaque base64url', () => {
    const cursor = encodeCursor({ after: [0, 1523, 1795600000000, 'stream_abc'], pit: 'gcSHBA==' }, fp);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor, fp), { after: [0, 1523, 1795600000000, 'stream_abc'], pit: 'gcSHBA==' });
  });

  it('refuses a cursor from other filters, garbage, and values of the wrong shape', () => {
    const cursor = encodeCursor({ after: [0, 1, 2, 's'] }, fp);
    const bad = (c: string, f = fp) =>
      assert.throws(
        () => decodeCursor(c, f),
        (e: unknown) => e instanceof ValidationError && 'cursor' in e.fields,
      );
    bad(cursor, fingerprintOf(['other']));
    bad('%%%');
    bad(Buffer.from('{"a":[0,1,2,{"x":1}],"f":"' + fp + '"}').toString('base64url'));
    bad(Buffer.from('{"a":[0.5,1,2,"s"],"f":"' + fp + '"}').toString('base64url'));
  });
});
