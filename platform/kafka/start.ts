import type { BusAdmin, PartitionOffset } from './admin.ts';

/**
 * Where a consumer (or a reader) starts.
 * - 'earliest' / 'latest': Kafka's auto.offset.reset. They apply only where the group has
 *   committed nothing, so a group that is resumed carries on after what it committed.
 * - `{ offsets }`: exactly there, whatever the group committed before; a partition not named
 *   starts as 'latest' would.
 * - `{ timestamp }`: at each partition's first record appended at or after it (ms), or its end
 *   where there is none; whatever the group committed before.
 * A consumer commits an explicit position for its group before joining, which Kafka allows only
 * while the group has no members: it is for a group of one (per process, one-off, a rebuild).
 */
export type StartPosition = 'earliest' | 'latest' | { offsets: PartitionOffset[] } | { timestamp: number };

/** The offsets an explicit position stands for in these topics; the one seek by timestamp. */
export async function startOffsets(
  admin: BusAdmin,
  topics: string[],
  from: Exclude<StartPosition, 'earliest' | 'latest'>,
): Promise<PartitionOffset[]> {
  if ('offsets' in from) return from.offsets.filter((o) => topics.includes(o.topic));
  return (await Promise.all(topics.map((t) => admin.offsetsAt(t, from.timestamp)))).flat();
}
