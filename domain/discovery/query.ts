import type { estypes } from '@elastic/elasticsearch';
import type { StreamStatus } from '../stream/evolve.ts';
import type { SortValues } from './search-cursor.ts';

/**
 * Pure builders of the discovery index's search bodies. User text only ever goes into `match`
 * query objects, never into a query-string syntax, so `status:ended OR *` is searched for as
 * words, not obeyed.
 *
 * Text matching over `search_text` (title, streamer, category, tags):
 *   - every word must match (operator and), each within AUTO edit distance ("dark sols" finds
 *     "Dark Souls");
 *   - or every word but the last matches fuzzily and the last as a prefix, so a query typed
 *     halfway ("dark sou") already finds it.
 * Order: live first, then most viewers, newest, stream id (the unique tiebreaker the cursor needs).
 */
export interface StreamSearch {
  text?: string;
  category?: string;
  minViewers?: number;
  statuses: StreamStatus[];
  limit: number;
  after?: SortValues;
  /** A point in time to search (DiscoverySearch opens one for a first page). */
  pit?: string;
}

/** How long a reader may take between pages before the snapshot is let go. */
export const PIT_KEEP_ALIVE = '2m';

export const SEARCH_SORT: estypes.SortCombinations[] = [
  { status_rank: 'asc' },
  { viewer_count: 'desc' },
  { created_at: 'desc' },
  { stream_id: 'asc' },
];

export function searchBody(s: StreamSearch): estypes.SearchRequest {
  const filter: estypes.QueryDslQueryContainer[] = [{ terms: { status: s.statuses } }];
  if (s.category !== undefined) filter.push({ term: { category: s.category } });
  if (s.minViewers !== undefined) filter.push({ range: { viewer_count: { gte: s.minViewers } } });
  const must: estypes.QueryDslQueryContainer[] = s.text
    ? [
        {
          bool: {
            should: [
              { match: { search_text: { query: s.text, fuzziness: 'AUTO', operator: 'and' } } },
              { match_bool_prefix: { search_text: { query: s.text, fuzziness: 'AUTO', operator: 'and' } } },
            ],
            minimum_should_match: 1,
          },
        },
      ]
    : [];
  return {
    // One more than asked tells whether a next page exists without a second request.
    size: s.limit + 1,
    track_total_hits: true,
    query: { bool: { must, filter } },
    sort: SEARCH_SORT,
    ...(s.after && { search_after: s.after }),
    ...(s.pit && { pit: { id: s.pit, keep_alive: PIT_KEEP_ALIVE } }),
  };
}

export function categoriesBody(limit: number): estypes.SearchRequest {
  return {
    size: 0,
    query: { bool: { filter: [{ term: { status: 'live' } }] } },
    aggs: {
      categories: {
        terms: { field: 'category', size: limit, order: [{ viewers: 'desc' }, { _key: 'asc' }] },
        aggs: {
          viewers: { sum: { field: 'viewer_count' } },
          // The keyword is lower-cased; show the spelling of the category's biggest stream.
          display: {
            top_hits: { size: 1, _source: ['category'], sort: [{ viewer_count: 'desc' }, { stream_id: 'asc' }] },
          },
        },
      },
    },
  };
}
