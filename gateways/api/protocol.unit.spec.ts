import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../platform/validation.ts';
import { parseCategoriesQuery, parseSearchQuery } from './protocol.ts';

const parse = (qs: string) => parseSearchQuery(new URLSearchParams(qs));

describe('search query parsing', () => {
  it('defaults: live and ready streams, 20 per page, no text', () => {
    assert.deepEqual(parse('').search, { statuses: ['live', 'ready'], limit: 20 });
  });

  it('normalises text, lower-cases the category filter, and ignores an empty q', () => {
    assert.deepEqual(parse('q=%20dark%20souls%20&category=Gaming&min_viewers=100&status=live&limit=5').search, {
      text: 'dark souls',
      category: 'gaming',
      minViewers: 100,
      statuses: ['live'],
      limit: 5,
    });
    assert.equal(parse('q=').search.text, undefined);
  });

  it('the same filters in another order make cursors that fit each other', () => {
    const page = { streams: [], total: 9, next: [1, 2, 3, 's'] as [number, number, number, string] };
    const cursor = parse('status=ready,live&q=x').nextCursor(page)!;
    assert.deepEqual(parse(`q=x&status=live,ready&cursor=${cursor}`).search.after, [1, 2, 3, 's']);
  });

  it('reports each bad or repeated parameter', () => {
    const fields = (qs: string) => {
      try {
        parse(qs);
      } catch (e) {
        if (e instanceof ValidationError) return Object.keys(e.fields).sort();
        throw e;
      }
      return [];
    };
    assert.deepEqual(fields('limit=0&min_viewers=1.5&status=paused&extra=1'), [
      'extra',
      'limit',
      'min_viewers',
      'status',
    ]);
    assert.deepEqual(fields('category=a&category=b'), ['category']);
    assert.deepEqual(fields(`q=${'x'.repeat(101)}`), ['q']);
    assert.throws(() => parseCategoriesQuery(new URLSearchParams('limit=101')), ValidationError);
  });
});
