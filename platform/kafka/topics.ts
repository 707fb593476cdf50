import { DLQ_RETENTION_MS, dlqName, topicConfig, type TopicSpec } from '../../schemas/topics.ts';
import type { DriverAdmin, NewTopic } from './driver.ts';

export interface ResolvedTopic {
  name: string;
  spec: TopicSpec<unknown>;
}

/** A topic as the catalog shapes it: its partitions, and the retention (or compaction) it keeps. */
export function catalogTopic(name: string, spec: Pick<TopicSpec<unknown>, 'partitions' | 'retention'>): NewTopic {
  return { name, partitions: spec.partitions, config: topicConfig(spec.retention) };
}

/**
 * Creates missing topics (and their dead-letter topics) and brings existing ones to the catalog's
 * configuration. Idempotent: safe in every service's start-up. Partitions only ever grow, since
 * shrinking would reorder keys; a topic with more partitions than the catalog is left as it is.
 */
export async function ensureTopics(
  admin: DriverAdmin,
  topics: ResolvedTopic[],
): Promise<{ created: string[]; altered: string[] }> {
  const wanted: NewTopic[] = topics.flatMap(({ name, spec }) => [
    catalogTopic(name, spec),
    { name: dlqName(name), partitions: 1, config: topicConfig(DLQ_RETENTION_MS) },
  ]);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.name));
  // Another instance may create them at the same moment: the driver takes "already exists" as done.
  if (missing.length) await admin.createTopics(missing);
  const present = wanted.filter((t) => existing.has(t.name));
  const altered: string[] = [];
  if (present.length) {
    const counts = await admin.partitionCounts(present.map((t) => t.name));
    const grow = present
      .map((t) => ({ topic: t.name, have: counts.get(t.name) ?? 0, want: t.partitions }))
      .filter((x) => x.have < x.want);
    if (grow.length) {
      await admin.createPartitions(grow.map((g) => ({ topic: g.topic, count: g.want })));
      altered.push(...grow.map((g) => `${g.topic}: partitions ${g.have} -> ${g.want}`));
    }
    const described = await admin.topicConfigs(present.map((t) => t.name));
    const drift = present.filter((t) => {
      const entries = described.get(t.name) ?? {};
      return Object.entries(t.config).some(([name, value]) => entries[name] !== value);
    });
    if (drift.length) {
      await admin.alterTopicConfigs(drift.map((t) => ({ topic: t.name, config: t.config })));
      altered.push(...drift.map((t) => `${t.name}: config`));
    }
  }
  return { created: missing.map((t) => t.name), altered };
}
