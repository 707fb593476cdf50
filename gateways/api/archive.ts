import type { LatencyMode, ViewerCountChanged } from '../../schemas/generated/events.ts';
import { classifyElasticsearchError, errorType, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import { TransientError } from '../../platform/errors.ts';
import type { StreamDocument } from '../../domain/discovery/document.ts';
import type { StreamRecord } from '../../domain/stream/evolve.ts';

/**
 * Streams that ended and have left this instance's registry, which holds every stream not yet
 * ended but only the latest ended ones (domain/stream/registry.ts), read back from the discovery
 * index: it keeps a document for every stream, and the API is its reader already.
 *
 * Only an `ended` document answers. Every stream not yet ended is in the registry once it has
 * caught up, so one that is not there and not ended is one this instance has not applied yet
 * (created a moment ago through another instance): it is unknown here, as it always was.
 *
 * What the document does not carry is filled the way the rest of the platform sees an old
 * stream: `enable_chat` false (the chat gateways no longer hold it either, so there is no room to
 * join), `enable_recording` true exactly when its VOD exists (what playback shows depends on the
 * VOD alone), no key hash (never shown). Counts come from the document, whose last one for an
 * ended stream is the counter's final zero with the broadcast's peak.
 */
export type ArchivedCounts = Pick<ViewerCountChanged, 'viewers' | 'peakViewers' | 'qualities' | 'bufferingRatio'>;

export interface ArchivedStream {
  stream: StreamRecord;
  counts: ArchivedCounts;
}

export class StreamArchive {
  constructor(
    private readonly es: Elasticsearch,
    private readonly alias: string,
    private readonly hasRecording: (streamId: string) => boolean,
  ) {}

  /** The ended stream, or undefined if the index holds no ended stream of that id. Throws TransientError when it cannot tell. */
  async ended(streamId: string): Promise<ArchivedStream | undefined> {
    let hits: StreamDocument[];
    try {
      const res = await this.es.search<StreamDocument>({
        index: this.alias,
        size: 1,
        query: { ids: { values: [streamId] } },
      });
      hits = res.hits.hits.map((h) => h._source!);
    } catch (err) {
      // A missing alias is the index being (re)built: the answer is not known yet.
      if (errorType(err) === 'index_not_found_exception')
        throw new TransientError(`the discovery index ${this.alias} is missing`, { cause: err });
      throw classifyElasticsearchError(err, 'stream lookup');
    }
    const doc = hits[0];
    const stream = doc && this.recordOf(doc);
    if (!stream) return undefined;
    return {
      stream,
      counts: { viewers: doc.viewer_count, peakViewers: doc.peak_viewer_count, qualities: {}, bufferingRatio: 0 },
    };
  }

  /** An ended stream's document as the registry's record (see above); undefined for any other. */
  recordOf(doc: StreamDocument): StreamRecord | undefined {
    if (doc.status !== 'ended') return undefined;
    return {
      streamId: doc.stream_id,
      status: 'ended',
      streamerId: doc.streamer_id ?? '',
      streamerName: doc.streamer_name ?? '',
      title: doc.title ?? '',
      category: doc.category ?? '',
      tags: doc.tags,
      latencyMode: (doc.latency_mode ?? 'STANDARD') as LatencyMode,
      recordingEnabled: this.hasRecording(doc.stream_id),
      chatEnabled: false,
      streamKeyHash: '',
      createdAt: doc.created_at ?? 0,
      updatedAt: doc.updated_at ?? 0,
      startedAt: doc.started_at,
      endedAt: doc.ended_at,
    };
  }
}
