import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dlqName } from '../../schemas/topics.ts';
import { testBus } from '../../tests/support/bus.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { readTopicUntil } from '../../tests/support/topic.ts';
import { waitFor } from '../../tests/support/wait.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { StreamRegistryProjection } from './projection.ts';
import { StreamRegistry } from './registry.ts';

describe('stream registry projection against real Kafka', () => {
  let bus: EventBus;
  let producer: EventProducer;
  const running: StreamRegistryProjection[] = [];

  const project = async (): Promise<StreamRegistry> => {
    const registry = new StreamRegistry();
    const projection = new StreamRegistryProjection(bus, registry, {
      groupId: uniqueName('registry'),
      catchUpDeadlineMs: 30_000,
    });
    await projection.start();
    running.push(projection);
    return registry;
  };

  before(async () => {
    bus = testBus('registry');
    await bus.init(['streamLifecycle', 'viewerCounts']);
    producer = bus.producer();
    await producer.connect();
  });
  after(async () => {
    for (const p of running) await p.stop();
    await producer.disconnect();
  });

  it('start resolves only once everything already on the topics is applied, even an undecodable last record', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `stream_${i}`);
    await producer.publish(bus.topic('streamLifecycle'), [
      ...ids.map((id) => streamEvents.created(id, { streamKeyHash: `hash_${id}` })),
      streamEvents.ended('stream_3'),
    ]);
    await producer.publish(bus.topic('viewerCounts'), [streamEvents.viewers('stream_5', 42)]);
    // A record no one can decode, last on its partition: it is dead-lettered and must not block start.
    await producer.sendRaw(bus.topicName('streamLifecycle'), [{ key: 'stream_0', value: Buffer.from('not avro') }]);

    const registry = await project();
    assert.equal(registry.size, 20);
    assert.equal(registry.get('stream_3')?.status, 'ended');
    assert.equal(registry.byStreamKeyHash('hash_stream_7')?.streamId, 'stream_7');
    assert.equal(registry.viewerCount('stream_5'), 42);
    await readTopicUntil(bus, dlqName(bus.topicName('streamLifecycle')), (all) =>
      all.some((r) => r.key === 'stream_0'),
    );
  });

  it('every instance sees every partition, and keeps following the topic', async () => {
    const [a, b] = [await project(), await project()];
    assert.equal(a.size, b.size);
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created('stream_new'),
      streamEvents.wentLive('stream_1'),
    ]);
    for (const r of [a, b]) {
      await waitFor('the new events', () => r.get('stream_new') !== undefined && r.get('stream_1')?.status === 'live');
    }
  });
});
