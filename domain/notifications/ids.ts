import { hash } from 'node:crypto';

/**
 * Deterministic ids for the go-live fan-out, so a replayed or redelivered fan-out names the same
 * notifications again and the notifications sink overwrites instead of adding.
 *
 * notificationId: a version-1 UUID (Cassandra `timeuuid`) whose time is the stream's start and
 * whose clock sequence and node (62 bits) are a SHA-256 of (stream, start, recipient). It sorts
 * an inbox by go-live time, names its own time (its expiry is computable from the id alone), and
 * differs for every recipient of a stream and every stream of a recipient.
 * eventId: a name-based UUID (version 5 layout over SHA-256) of the notification id.
 *
 * A million-follower fan-out names two million of these, so the per-go-live part (the time
 * fields) is computed once and each hash is one-shot (the ids are the same as ever: a resumed
 * fan-out must name what it named before).
 */
const GREGORIAN_OFFSET = 122_192_928_000_000_000n;

/** The notification id of each recipient of one go-live. */
export function notificationIdsOf(streamId: string, startedAt: number): (recipientId: string) => string {
  const t = BigInt(Math.floor(startedAt)) * 10_000n + GREGORIAN_OFFSET;
  const low = (t & 0xffff_ffffn).toString(16).padStart(8, '0');
  const mid = ((t >> 32n) & 0xffffn).toString(16).padStart(4, '0');
  const hi = (((t >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, '0');
  const time = `${low}-${mid}-${hi}-`;
  const named = `${streamId}\u0000${startedAt}\u0000`;
  return (recipientId) => {
    const h = hash('sha256', named + recipientId, 'buffer');
    const clockSeq = (0x8000 | (((h[0]! << 8) | h[1]!) & 0x3fff)).toString(16);
    return `${time}${clockSeq}-${h.toString('hex', 2, 8)}`;
  };
}

export const notificationIdOf = (streamId: string, startedAt: number, recipientId: string): string =>
  notificationIdsOf(streamId, startedAt)(recipientId);

export function eventIdOf(notificationId: string): string {
  const h = hash('sha256', `notification-event\u0000${notificationId}`, 'buffer');
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
