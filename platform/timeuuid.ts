import { randomBytes } from 'node:crypto';

/**
 * Version-1 (time-based) UUIDs, RFC 4122 §4.2, as Cassandra's `timeuuid` orders them:
 *
 *   time_low (32) - time_mid (16) - version 1 + time_hi (4+12) - variant 10 + clock_seq (2+14) - node (48)
 *
 * where time is the count of 100 ns intervals since 1582-10-15. A message id built this way names
 * its own time (so its Cassandra time bucket can be found from the id alone) and sorts by it.
 * Node and clock sequence are random per generator, as RFC 4122 §4.5 allows, so two gateway
 * processes never mint the same id.
 */
const GREGORIAN_OFFSET = 122_192_928_000_000_000n; // 100 ns ticks from 1582-10-15 to 1970-01-01
const TICKS_PER_MS = 10_000n;
const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export class TimeUuidGenerator {
  private last = 0n;
  private readonly tail: string;

  constructor(seed: Buffer = randomBytes(8)) {
    // Multicast bit set on the node: RFC 4122's mark of a random node id, never a real MAC.
    const node = Buffer.from(seed.subarray(2, 8));
    node[0]! |= 0x01;
    const clockSeq = ((seed[0]! << 8) | seed[1]!) & 0x3fff;
    this.tail = `${(0x8000 | clockSeq).toString(16)}-${node.toString('hex')}`;
  }

  /**
   * A fresh id for `nowMs`. Strictly increasing per generator, even if the clock stands still
   * (up to 10,000 ids per ms) or steps back: ids then run slightly ahead of the clock.
   */
  next(nowMs: number): string {
    const wanted = BigInt(Math.floor(nowMs)) * TICKS_PER_MS + GREGORIAN_OFFSET;
    this.last = wanted > this.last ? wanted : this.last + 1n;
    return withTime(this.last, this.tail);
  }
}

/** `ticks` (100 ns since 1582-10-15) as the time fields of a version-1 UUID, then `tail`. */
function withTime(ticks: bigint, tail: string): string {
  const low = (ticks & 0xffff_ffffn).toString(16).padStart(8, '0');
  const mid = ((ticks >> 32n) & 0xffffn).toString(16).padStart(4, '0');
  const hi = (((ticks >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, '0');
  return `${low}-${mid}-${hi}-${tail}`;
}

export function isTimeUuid(id: string): boolean {
  return SHAPE.test(id);
}

/** Epoch ms a time-based UUID was minted at (sub-ms ticks dropped). Throws on anything else. */
export function timeOfTimeUuid(id: string): number {
  if (!isTimeUuid(id)) throw new TypeError(`not a time-based UUID: ${id}`);
  const hex = id.slice(15, 18) + id.slice(9, 13) + id.slice(0, 8);
  return Number((BigInt(`0x${hex}`) - GREGORIAN_OFFSET) / TICKS_PER_MS);
}

/**
 * The lowest time-based UUID of millisecond `ms`, as Cassandra's minTimeuuid: every id minted in
 * that millisecond or later sorts above it, every earlier one below. A time as a paging cursor.
 */
export function minTimeUuid(ms: number): string {
  // Cassandra compares the rest as signed bytes: 0x80 is the lowest.
  return withTime(BigInt(Math.floor(ms)) * TICKS_PER_MS + GREGORIAN_OFFSET, '8080-808080808080');
}
