import type { estypes } from '@elastic/elasticsearch';
import { classifyElasticsearchError, errorType, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import { isRetriable } from '../../platform/errors.ts';
import type { StreamDocument } from './document.ts';
import { PIT_KEEP_ALIVE, categoriesBody, searchBody, type StreamSearch } from './query.ts';
import type { Cursor } from './search-cursor.ts';

/**
 * The read side of the discovery index, for the API. When the cluster cannot answer, callers get
 * `DiscoveryUnavailable` (the gateway answers 503 with Retry-After), never a hang or a 500.
 */
export class DiscoveryUnavailable extends Error {
  readonly code = 'search_unavailable';
  constructor(cause: unknown) {
    super('search is unavailable; try again shortly', { cause });
    this.name = 'DiscoveryUnavailable';
  }
}

export interface SearchPage {
  streams: StreamDocument[];
  total: number;
  /** Present when another page exists: where it starts, and the snapshot it comes from. */
  next: Cursor | null;
}

export interface CategoryRank {
  name: string;
  viewers: number;
  liveStreams: number;
}

export class DiscoverySearch {
  constructor(
    private readonly es: Elasticsearch,
    private readonly alias: string,
  ) {}

  /**
   * One page from one snapshot: a first page opens a point in time and every later page reads it,
   * so a stream whose viewer count changes meanwhile is neither shown twice nor skipped. A
   * snapshot that expired (a reader idle past PIT_KEEP_ALIVE) or an id Elasticsearch refuses
   * is replaced by a fresh one, resuming after the same sort values: the reader gets its page.
   */
  async search(s: StreamSearch): Promise<SearchPage> {
    let res: estypes.SearchResponse<StreamDocument> | undefined;
    if (s.pit) res = await this.call(() => this.es.search<StreamDocument>(searchBody(s)), { snapshotGone: true });
    if (!res) {
      const { id } = await this.call(() => this.es.openPointInTime({ index: this.alias, keep_alive: PIT_KEEP_ALIVE }));
      res = await this.call(() => this.es.search<StreamDocument>(searchBody({ ...s, pit: id })));
    }
    const hits = res.hits.hits;
    const page = hits.slice(0, s.limit);
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    const more = hits.length > s.limit;
    // Nobody reads a last page's snapshot again: let it go now rather than at its expiry.
    if (!more && res.pit_id) void this.es.closePointInTime({ id: res.pit_id }).catch(() => undefined);
    return {
      streams: page.map((h) => h._source!),
      total,
      next: more ? { after: page[page.length - 1]!.sort as Cursor['after'], pit: res.pit_id! } : null,
    };
  }

  async categories(limit: number): Promise<CategoryRank[]> {
    const res = await this.call(() => this.es.search({ index: this.alias, ...categoriesBody(limit) }));
    const agg = res.aggregations?.categories as estypes.AggregationsStringTermsAggregate | undefined;
    const buckets = (agg?.buckets ?? []) as Array<
      estypes.AggregationsStringTermsBucket & {
        viewers: estypes.AggregationsSumAggregate;
        display: estypes.AggregationsTopHitsAggregate;
      }
    >;
    return buckets.map((b) => ({
      name: (b.display.hits.hits[0]?._source as { category?: string } | undefined)?.category ?? String(b.key),
      viewers: Math.round(b.viewers.value ?? 0),
      liveStreams: b.doc_count,
    }));
  }

  private async call<T>(fn: () => Promise<T>): Promise<T>;
  private async call<T>(fn: () => Promise<T>, o: { snapshotGone: true }): Promise<T | undefined>;
  /** With `snapshotGone`, a refusal that is not the cluster being away answers undefined. */
  private async call<T>(fn: () => Promise<T>, o?: { snapshotGone: true }): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      const classified = classifyElasticsearchError(err, 'search');
      // A missing alias is the index being (re)built, not a bad request.
      if (isRetriable(classified) || isIndexMissing(err)) throw new DiscoveryUnavailable(err);
      if (o?.snapshotGone) return undefined;
      throw classified;
    }
  }
}

function isIndexMissing(err: unknown): boolean {
  return errorType(err) === 'index_not_found_exception';
}
