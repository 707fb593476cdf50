import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../../platform/validation.ts';

/**
 * Opaque pagination cursor: base64url of `{"a": <sort values of the last hit>, "f": <query
 * fingerprint>}`. The sort values end with the stream id, a unique tiebreaker, so `search_after`
 * never skips or repeats a document whose sort keys do not change between pages. The
 * fingerprint binds a cursor to the filters it was made for: reusing it with others is a 400,
 * not a silently wrong page.
 */
export type SortValues = [statusRank: number, viewers: number, createdAt: number, streamId: string];

const payload = z.object({
  a: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.string().min(1).max(200)]),
  f: z.string(),
});

export function encodeCursor(after: SortValues, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ a: after, f: fingerprint })).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string): SortValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor this API issued');
  }
  const result = payload.safeParse(parsed);
  if (!result.success) throw invalid('is not a cursor this API issued');
  if (result.data.f !== fingerprint) throw invalid('belongs to a search with other filters');
  return result.data.a;
}

/** Stable identity of a search's filters (not its page): equal filters, equal fingerprint. */
export function fingerprintOf(filters: unknown): string {
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
}

const invalid = (why: string) => new ValidationError({ cursor: `the cursor ${why}` });
