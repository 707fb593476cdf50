import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOPICS, dlqName } from '../../schemas/topics.ts';
import { testBus } from '../../tests/support/bus.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { KAFKA_CLIENTS } from './driver.ts';
import { ensureTopics } from './topics.ts';

for (const client of KAFKA_CLIENTS) {
  describe(`topic catalog against the real broker (${client})`, () => {
    it('creates topics and their DLQs once, then restores drifted config and grows partitions', async () => {
      const bus = testBus('topics', client);
      const name = bus.topicName('viewerCounts');
      // The topic's configuration itself is looked at, below what the bus offers.
      const admin = bus.driver.admin();
      try {
        const wanted = [{ name, spec: TOPICS.viewerCounts as never }];
        const first = await ensureTopics(admin, wanted);
        assert.deepEqual(first.created.sort(), [name, dlqName(name)].sort());
        const again = await ensureTopics(admin, wanted);
        assert.deepEqual(again, { created: [], altered: [] }, 'idempotent');

        await admin.alterTopicConfigs([{ topic: name, config: { 'cleanup.policy': 'delete' } }]);
        // The broker applies an altered config once the controller's record reaches it: a
        // describe straight after may still show the old one, and the drift would go unseen.
        await waitFor(
          'the drifted config to be visible',
          async () => (await admin.topicConfigs([name])).get(name)?.['cleanup.policy'] === 'delete',
        );
        const grown = { ...TOPICS.viewerCounts, partitions: TOPICS.viewerCounts.partitions + 2 };
        const fixed = await ensureTopics(admin, [{ name, spec: grown as never }]);
        assert.ok(fixed.altered.some((a) => a.startsWith(`${name}: partitions`)));
        assert.ok(fixed.altered.includes(`${name}: config`));

        assert.equal((await admin.topicConfigs([name])).get(name)?.['cleanup.policy'], 'compact');
        assert.equal((await admin.partitionCounts([name])).get(name), grown.partitions);
      } finally {
        await admin.close();
      }
    });
  });
}
