import type { EventBus } from './kafka/bus.ts';
import type { Logger } from './logger.ts';

/** Records the group has committed past, out of those in its topics when the wait began. */
export interface GroupProgress {
  done: number;
  total: number;
}

/**
 * "Has this consumer group handled everything that was in these topics when I asked?" A
 * projection that serves reads waits on this before it starts answering, and a rebuild waits on
 * it before it swaps in its result.
 *
 * The test is the group's committed offsets against the end offsets taken at the call: the
 * consumer runner commits only after a record's effect is durable or the record was
 * dead-lettered, so a committed offset at the end means every record before it was dealt with,
 * including undecodable ones no handler ever saw.
 */
export async function waitForGroupToReachEnd(
  bus: EventBus,
  groupId: string,
  topics: string[],
  opts: { deadlineMs: number; pollMs?: number; onProgress?: (progress: GroupProgress) => void },
): Promise<void> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const targets = (
      await Promise.all(
        topics.map(async (topic) =>
          (await admin.fetchTopicOffsets(topic)).map((p) => ({
            topic,
            partition: p.partition,
            low: Number(p.low),
            end: Number(p.high),
          })),
        ),
      )
    ).flat();
    const until = Date.now() + opts.deadlineMs;
    for (;;) {
      const committed = new Map<string, number>();
      for (const t of await admin.fetchOffsets({ groupId, topics })) {
        for (const p of t.partitions) committed.set(`${t.topic}/${p.partition}`, Number(p.offset));
      }
      const at = (t: (typeof targets)[number]): number =>
        Math.min(t.end, Math.max(t.low, committed.get(`${t.topic}/${t.partition}`) ?? t.low));
      opts.onProgress?.({
        done: targets.reduce((n, t) => n + at(t) - t.low, 0),
        total: targets.reduce((n, t) => n + t.end - t.low, 0),
      });
      const behind = targets.filter((t) => t.end > t.low && (committed.get(`${t.topic}/${t.partition}`) ?? -1) < t.end);
      if (!behind.length) return;
      if (Date.now() > until) {
        const where = behind.map(
          (t) => `${t.topic}/${t.partition} at ${committed.get(`${t.topic}/${t.partition}`) ?? -1} of ${t.end}`,
        );
        throw new Error(
          `consumer group ${groupId} did not reach the end of its topics in ${opts.deadlineMs} ms: ${where.join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Deletes a group nothing will resume (a per-instance or one-off group), so groups do not pile up
 * on the broker. Best effort: a failure is logged, and the broker expires empty groups anyway.
 */
export async function deleteConsumerGroup(bus: EventBus, groupId: string, log: Logger): Promise<void> {
  const admin = bus.kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (err) {
    log.warn({ err, groupId }, 'could not delete consumer group');
  } finally {
    await admin.disconnect();
  }
}

/** Whether any consumer is a member of the group now: a process that owns what the group writes is running. */
export async function groupHasMembers(bus: EventBus, groupId: string): Promise<boolean> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups.some((g) => g.members.length > 0);
  } finally {
    await admin.disconnect();
  }
}
