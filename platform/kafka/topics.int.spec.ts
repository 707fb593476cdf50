import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOPICS, dlqName } from '../../schemas/topics.ts';
import { testBus } from '../../tests/support/bus.ts';
import { createKafka } from './client.ts';
import { ensureTopics } from './topics.ts';

describe('topic catalog against the real broker', () => {
  it('creates topics and their DLQs once, then restores drifted config and grows partitions', async () => {
    const bus = testBus('topics');
    const name = bus.topicName('viewerCounts');
    // The topic's configuration itself is looked at, below what the bus offers.
    const admin = createKafka({ brokers: bus.config.brokers, clientId: 'topics' }).admin();
    await admin.connect();
    try {
      const wanted = [{ name, spec: TOPICS.viewerCounts as never }];
      const first = await ensureTopics(admin, wanted);
      assert.deepEqual(first.created.sort(), [name, dlqName(name)].sort());
      const again = await ensureTopics(admin, wanted);
      assert.deepEqual(again, { created: [], altered: [] }, 'idempotent');

      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }],
      });
      const grown = { ...TOPICS.viewerCounts, partitions: TOPICS.viewerCounts.partitions + 2 };
      const fixed = await ensureTopics(admin, [{ name, spec: grown as never }]);
      assert.ok(fixed.altered.some((a) => a.startsWith(`${name}: partitions`)));
      assert.ok(fixed.altered.includes(`${name}: config`));

      const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name }] });
      const policy = cfg.resources[0]!.configEntries.find((e) => e.configName === 'cleanup.policy');
      assert.equal(policy?.configValue, 'compact');
      const meta = await admin.fetchTopicMetadata({ topics: [name] });
      assert.equal(meta.topics[0]!.partitions.length, grown.partitions);
    } finally {
      await admin.disconnect();
    }
  });
});
