import { PoisonRecordError, TransientError } from '../errors.ts';
import { esCall, isRetriableStatus, type Elasticsearch } from './client.ts';

/**
 * Idempotent, ordered writes of whole documents with external versions (`version_type=external`:
 * a write lands only if its version is higher than the stored one), in one `_bulk` request.
 *
 * `_bulk` answers 200 even when items fail, so every item is inspected:
 *   - 200/201              written;
 *   - 409 version conflict the stored document is as new or newer; returned to the caller, who
 *                          decides whether that means "already applied";
 *   - 429, 5xx, a missing alias (someone is moving it)
 *                          TransientError for the whole call: the caller retries, and the items
 *                          that did land come back as 409s;
 *   - any other item error PoisonRecordError: this data cannot be written as it is.
 * Nothing is ever dropped without one of these outcomes.
 */
export interface VersionedWrite {
  id: string;
  version: number;
  doc: object;
}

export interface BulkOutcome {
  written: string[];
  conflicts: string[];
}

export async function writeVersioned(
  es: Elasticsearch,
  index: string,
  writes: VersionedWrite[],
  opts: { requireAlias: boolean },
): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { written: [], conflicts: [] };
  if (!writes.length) return outcome;
  const res = await esCall('bulk', () =>
    es.bulk({
      // Only what is inspected below: the full per-item answer (index, id, version, shards, seq_no)
      // is ~200 bytes of JSON per document to build, send and parse; items keep their positions.
      filter_path: ['errors', 'items.*.status', 'items.*.error.type', 'items.*.error.reason'],
      operations: writes.flatMap((w) => [
        {
          index: {
            _index: index,
            _id: w.id,
            version: w.version,
            version_type: 'external' as const,
            require_alias: opts.requireAlias,
          },
        },
        w.doc,
      ]),
    }),
  );
  const transient: string[] = [];
  const poison: string[] = [];
  res.items.forEach((item, i) => {
    const result = item.index;
    const id = writes[i]!.id;
    if (!result) {
      poison.push(`${id}: no result for an index operation`);
    } else if (result.status < 300) {
      outcome.written.push(id);
    } else if (result.status === 409) {
      outcome.conflicts.push(id);
    } else if (isRetriableStatus(result.status) || result.error?.type === 'index_not_found_exception') {
      transient.push(`${id}: ${result.status} ${result.error?.type ?? ''} ${result.error?.reason ?? ''}`);
    } else {
      poison.push(`${id}: ${result.status} ${result.error?.type ?? ''} ${result.error?.reason ?? ''}`);
    }
  });
  if (transient.length)
    throw new TransientError(`bulk: ${transient.length} item(s) to retry: ${transient.slice(0, 3).join('; ')}`);
  if (poison.length)
    throw new PoisonRecordError(`bulk: ${poison.length} item(s) refused: ${poison.slice(0, 3).join('; ')}`, 'invalid');
  return outcome;
}
