import type { Logger } from '../logger.ts';
import type { EventBus } from './bus.ts';

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
  await bus.withAdmin(async (admin) => {
    const targets = (await Promise.all(topics.map((topic) => admin.topicOffsets(topic)))).flat();
    const until = Date.now() + opts.deadlineMs;
    for (;;) {
      const committed = new Map<string, number>();
      for (const c of await admin.committedOffsets(groupId, topics))
        committed.set(`${c.topic}/${c.partition}`, c.offset);
      const at = (t: (typeof targets)[number]): number =>
        Math.min(t.high, Math.max(t.low, committed.get(`${t.topic}/${t.partition}`) ?? t.low));
      opts.onProgress?.({
        done: targets.reduce((n, t) => n + at(t) - t.low, 0),
        total: targets.reduce((n, t) => n + t.high - t.low, 0),
      });
      const behind = targets.filter(
        (t) => t.high > t.low && (committed.get(`${t.topic}/${t.partition}`) ?? -1) < t.high,
      );
      if (!behind.length) return;
      if (Date.now() > until) {
        const where = behind.map(
          (t) => `${t.topic}/${t.partition} at ${committed.get(`${t.topic}/${t.partition}`) ?? -1} of ${t.high}`,
        );
        throw new Error(
          `consumer group ${groupId} did not reach the end of its topics in ${opts.deadlineMs} ms: ${where.join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
    }
  });
}

/**
 * Deletes a group nothing will resume (a per-instance or one-off group), so groups do not pile up
 * on the broker. Best effort: a failure is logged, and the broker expires empty groups anyway.
 */
export async function deleteConsumerGroup(bus: EventBus, groupId: string, log: Logger): Promise<void> {
  try {
    await bus.withAdmin((admin) => admin.deleteGroups([groupId]));
  } catch (err) {
    log.warn({ err, groupId }, 'could not delete consumer group');
  }
}
