import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../../platform/validation.ts';

/**
 * Opaque pagination cursor: base64url of `{"a": <sort values of the last hit>, "f": <query
 * fingerprint>, "p": <point in time>}`. The sort values end with the stream id, a unique
 * tiebreaker, so `search_after` never skips or repeats a document whose sort keys do not change
 * between pages; the point in time (an Elasticsearch snapshot the first page opened) keeps them
 * from changing, so viewer counts moving between pages cannot reorder the list under a reader.
 * The fingerprint binds a cursor to the filters it was made for: reusing it with others is a
 * 400, not a silently wrong page.
 */
/** Point-in-time ids grow with the shard count; a few hundred bytes for this index. */
export const MAX_PIT_ID = 2048;

/** A search over a point in time ends its sort with Elasticsearch's own tiebreaker (`_shard_doc`). */
export type SortValues = [statusRank: number, viewers: number, createdAt: number, streamId: string, shardDoc?: number];

export interface Cursor {
  after: SortValues;
  /** The snapshot the pages so far came from; absent in cursors issued before snapshots. */
  pit?: string;
}

const payload = z.object({
  a: z.union([
    z.tuple([z.number().int(), z.number().int(), z.number().int(), z.string().min(1).max(200)]),
    z.tuple([z.number().int(), z.number().int(), z.number().int(), z.string().min(1).max(200), z.number().int()]),
  ]),
  f: z.string(),
  // Elasticsearch's ids are URL-safe base64; anything else never reaches it.
  p: z
    .string()
    .max(MAX_PIT_ID)
    .regex(/^[A-Za-z0-9_=+/-]+$/)
    .optional(),
});

export function encodeCursor(c: Cursor, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ a: c.after, f: fingerprint, ...(c.pit && { p: c.pit }) })).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor this API issued');
  }
  const result = payload.safeParse(parsed);
  if (!result.success) throw invalid('is not a cursor this API issued');
  if (result.data.f !== fingerprint) throw invalid('belongs to a search with other filters');
  return { after: result.data.a, ...(result.data.p && { pit: result.data.p }) };
}

/** Stable identity of a search's filters (not its page): equal filters, equal fingerprint. */
export function fingerprintOf(filters: unknown): string {
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
}

const invalid = (why: string) => new ValidationError({ cursor: `the cursor ${why}` });
