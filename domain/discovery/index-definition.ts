import { env } from '../../platform/config.ts';
import type { IndexDefinition } from '../../platform/elasticsearch/indices.ts';

/**
 * The discovery index: one document per stream (processors/discovery-indexer/document.ts).
 *
 * - `search_text` gathers title, streamer name, category and tags (copy_to) so one fuzzy match
 *   spans them all: "dark sols alice" matches a title and a streamer name together.
 * - `category` and `tags` are keywords for exact filters; `category` is lower-cased by its
 *   normalizer so "gaming" filters "Gaming" (the source keeps the streamer's spelling).
 * - Offsets are kept in the source for the write guards but neither indexed nor aggregated.
 * - Mapping is strict: a field that is not here is a bug, refused rather than guessed.
 *
 * Changing this mapping means a new index: `npm run replay -- discovery` builds one from the topics.
 */
export function discoveryIndex(opts: { shards: number; replicas: number }): IndexDefinition {
  return {
    settings: {
      number_of_shards: opts.shards,
      number_of_replicas: opts.replicas,
      refresh_interval: '1s',
      analysis: { normalizer: { lowercase: { type: 'custom', filter: ['lowercase'] } } },
    },
    mappings: {
      dynamic: 'strict',
      properties: {
        stream_id: { type: 'keyword' },
        status: { type: 'keyword' },
        status_rank: { type: 'byte' },
        streamer_id: { type: 'keyword' },
        streamer_name: { type: 'text', copy_to: 'search_text', fields: { raw: { type: 'keyword' } } },
        title: { type: 'text', copy_to: 'search_text' },
        category: { type: 'keyword', normalizer: 'lowercase', copy_to: 'search_text' },
        tags: { type: 'keyword', copy_to: 'search_text' },
        search_text: { type: 'text' },
        latency_mode: { type: 'keyword' },
        viewer_count: { type: 'integer' },
        peak_viewer_count: { type: 'integer' },
        created_at: { type: 'date', format: 'epoch_millis' },
        updated_at: { type: 'date', format: 'epoch_millis' },
        started_at: { type: 'date', format: 'epoch_millis' },
        ended_at: { type: 'date', format: 'epoch_millis' },
        lifecycle_offset: { type: 'long', index: false, doc_values: false },
        viewers_offset: { type: 'long', index: false, doc_values: false },
      },
    },
  };
}

/** Config fragment for every process that reads or writes the discovery index. */
export const discoveryEnv = {
  /** The alias readers and the live indexer use; concrete indices come and go behind it. */
  DISCOVERY_ALIAS: env.str('live-streams'),
  DISCOVERY_SHARDS: env.int(1, 1),
  DISCOVERY_REPLICAS: env.int(0),
};
