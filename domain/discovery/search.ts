import type { estypes } from '@elastic/elasticsearch';
import { classifyElasticsearchError, errorType, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import { isRetriable } from '../../platform/errors.ts';
import type { StreamDocument } from './document.ts';
import { categoriesBody, searchBody, type StreamSearch } from './query.ts';
import type { SortValues } from './search-cursor.ts';

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
  /** Present when another page exists. */
  next: SortValues | null;
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

  async search(s: StreamSearch): Promise<SearchPage> {
    const res = await this.call(() => this.es.search<StreamDocument>({ index: this.alias, ...searchBody(s) }));
    const hits = res.hits.hits;
    const page = hits.slice(0, s.limit);
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return {
      streams: page.map((h) => h._source!),
      total,
      next: hits.length > s.limit ? (page[page.length - 1]!.sort as SortValues) : null,
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

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const classified = classifyElasticsearchError(err, 'search');
      // A missing alias is the index being (re)built, not a bad request.
      if (isRetriable(classified) || isIndexMissing(err)) throw new DiscoveryUnavailable(err);
      throw classified;
    }
  }
}

function isIndexMissing(err: unknown): boolean {
  return errorType(err) === 'index_not_found_exception';
}
