import type { Admin, ITopicConfig } from 'kafkajs';
import { DLQ_RETENTION_MS, dlqName, topicConfig, type TopicSpec } from '../../schemas/topics.ts';

export interface ResolvedTopic {
  name: string;
  spec: TopicSpec<unknown>;
}

const configEntries = (retention: TopicSpec<unknown>['retention']): ITopicConfig['configEntries'] =>
  Object.entries(topicConfig(retention)).map(([name, value]) => ({ name, value }));

/** A topic as the catalog shapes it: its partitions, and the retention (or compaction) it keeps. */
export function catalogTopic(name: string, spec: Pick<TopicSpec<unknown>, 'partitions' | 'retention'>): ITopicConfig {
  return { topic: name, numPartitions: spec.partitions, configEntries: configEntries(spec.retention) };
}

/**
 * Creates missing topics (and their dead-letter topics) and brings existing ones to the catalog's
 * configuration. Idempotent: safe in every service's start-up. Partitions only ever grow, since
 * shrinking would reorder keys; a topic with more partitions than the catalog is left as it is.
 */
export async function ensureTopics(
  admin: Admin,
  topics: ResolvedTopic[],
): Promise<{ created: string[]; altered: string[] }> {
  const wanted: ITopicConfig[] = topics.flatMap(({ name, spec }) => [
    catalogTopic(name, spec),
    { topic: dlqName(name), numPartitions: 1, configEntries: configEntries(DLQ_RETENTION_MS) },
  ]);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length) {
    // Another instance may create them at the same moment: TOPIC_ALREADY_EXISTS is fine.
    await admin.createTopics({ topics: missing, waitForLeaders: true }).catch((err: { type?: string }) => {
      if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
    });
  }
  const present = wanted.filter((t) => existing.has(t.topic));
  const altered: string[] = [];
  if (present.length) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
    const grow = meta.topics
      .map((m) => ({
        topic: m.name,
        have: m.partitions.length,
        want: present.find((p) => p.topic === m.name)?.numPartitions ?? 0,
      }))
      .filter((x) => x.have < x.want);
    if (grow.length) {
      await admin.createPartitions({ topicPartitions: grow.map((g) => ({ topic: g.topic, count: g.want })) });
      altered.push(...grow.map((g) => `${g.topic}: partitions ${g.have} -> ${g.want}`));
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((t) => ({ type: 2 /* TOPIC */, name: t.topic })),
    });
    const drift = present.filter((t) => {
      const entries = described.resources.find((r) => r.resourceName === t.topic)?.configEntries ?? [];
      return (t.configEntries ?? []).some(
        (want) => entries.find((e) => e.configName === want.name)?.configValue !== want.value,
      );
    });
    if (drift.length) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: drift.map((t) => ({ type: 2, name: t.topic, configEntries: t.configEntries ?? [] })),
      });
      altered.push(...drift.map((t) => `${t.topic}: config`));
    }
  }
  return { created: missing.map((t) => t.topic), altered };
}
