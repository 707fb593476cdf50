import { createHash, timingSafeEqual } from 'node:crypto';
import type { StreamRecord } from './evolve.ts';

/**
 * Is this stream key (RTMP or WHIP) allowed to publish? Pure apart from hashing.
 *
 * The key is looked up by its SHA-256 (the registry holds only hashes), so lookup timing can
 * depend on the digest but never on how much of the key an attacker guessed right; the digest is
 * then compared with the registry's in constant time all the same, and an unknown key costs the
 * same comparison against a dummy.
 */
export type KeyRefusal = 'malformed_key' | 'unknown_key' | 'stream_ended' | 'already_publishing';

export type KeyCheck = { ok: true; stream: StreamRecord } | { ok: false; reason: KeyRefusal };

const MAX_KEY_LENGTH = 256;
const DUMMY = Buffer.alloc(32);

export function checkStreamKey(
  key: string,
  lookup: (hash: string) => StreamRecord | undefined,
  publishingHere: (streamId: string) => boolean,
): KeyCheck {
  if (!key || key.length > MAX_KEY_LENGTH) return { ok: false, reason: 'malformed_key' };
  const digest = createHash('sha256').update(key).digest();
  const stream = lookup(digest.toString('hex'));
  const stored = stream ? Buffer.from(stream.streamKeyHash, 'hex') : DUMMY;
  const same = stored.length === digest.length && timingSafeEqual(stored, digest);
  if (!stream || !same) return { ok: false, reason: 'unknown_key' };
  if (stream.status === 'ended') return { ok: false, reason: 'stream_ended' };
  // A live stream with no publisher here is one whose ingest died: the streamer may take it over.
  if (stream.status === 'live' && publishingHere(stream.streamId)) return { ok: false, reason: 'already_publishing' };
  return { ok: true, stream };
}
