import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBus } from '../../tests/support/bus.ts';
import { endpoints, serverEnv } from '../../tests/support/endpoints.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import { createElasticsearch, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { discoveryIndex } from '../../domain/discovery/index-definition.ts';
import { deleteIndices, ensureAliasedIndex, indicesOf } from '../../platform/elasticsearch/indices.ts';
import type { StreamDocument } from '../../domain/discovery/document.ts';
import type { DerivedStore, StoreWriter } from '../../platform/store/definition.ts';
import { rebuild } from '../../platform/store/rebuild.ts';
import { loadIndexerConfig } from './config.ts';
import { discoveryStore } from './definition.ts';

const definition = discoveryIndex({ shards: 1, replicas: 0 });

describe('rebuilding the discovery index from the topics', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let es: Elasticsearch;
  let alias: string;
  let store: DerivedStore;
  let live: StoreWriter;

  before(async () => {
    bus = testBus('replay');
    await bus.init(['streamLifecycle', 'viewerCounts']);
    producer = bus.producer();
    await producer.connect();
    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    alias = uniqueName('streams');
    await ensureAliasedIndex(es, alias, definition);
    const cfg = loadIndexerConfig({
      ...serverEnv(bus.config.topicPrefix),
      DISCOVERY_ALIAS: alias,
      DISCOVERY_GROUP_ID: uniqueName('live'),
    });
    store = discoveryStore(cfg, { bus, es, log: bus.log });
    live = store.writer(alias, { groupId: store.liveGroupId, live: true });
    await live.start();
  });
  after(async () => {
    await live.stop();
    await producer.disconnect();
    await deleteIndices(es, await indicesOf(es, alias));
    await es.close();
  });

  /** Every document behind the alias: id, version and source. */
  const snapshot = async () => {
    await es.indices.refresh({ index: alias });
    const res = await es.search<StreamDocument>({
      index: alias,
      size: 1000,
      version: true,
      query: { match_all: {} },
      sort: [{ stream_id: 'asc' }],
    });
    return res.hits.hits.map((h) => ({ id: h._id, version: h._version, source: h._source }));
  };

  it('a rebuilt index equals the live one, document for document, and the alias moves atomically', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `${uniqueName('r')}_${i}`);
    const lifecycle = ids.flatMap((id, i) => [
      streamEvents.created(id, {
        title: `Stream number ${i}`,
        tags: [`t${i % 3}`],
        category: i % 2 ? 'Gaming' : 'Music',
      }),
      ...(i % 3 === 0 ? [streamEvents.updated(id, { title: `Renamed ${i}` })] : []),
      ...(i % 2 === 0 ? [streamEvents.wentLive(id)] : []),
      ...(i % 4 === 0 ? [streamEvents.ended(id)] : []),
    ]);
    await producer.publish(bus.topic('streamLifecycle'), lifecycle);
    await producer.publish(
      bus.topic('viewerCounts'),
      ids.flatMap((id, i) => [streamEvents.viewers(id, i, i), streamEvents.viewers(id, i * 10, i * 11)]),
    );
    // An orphan count (no stream yet) is state too, and must survive the rebuild as well.
    await producer.publish(bus.topic('viewerCounts'), [streamEvents.viewers(uniqueName('orphan'), 7)]);
    await waitForGroupToReachEnd(
      bus,
      store.liveGroupId,
      [bus.topicName('streamLifecycle'), bus.topicName('viewerCounts')],
      {
        deadlineMs: 30_000,
      },
    );
    const before = await snapshot();
    assert.equal(before.length, ids.length + 1);
    assert.deepEqual(
      ids.map((id) => before.find((d) => d.id === id)?.source?.viewer_count),
      ids.map((_, i) => i * 10),
    );
    const [oldIndex] = await indicesOf(es, alias);

    const { target: index, notes } = await rebuild(
      { bus, log: bus.log },
      store,
      { mode: 'swap' },
      { deadlineMs: 60_000 },
    );

    assert.deepEqual(notes, [`${alias} now points at ${index}`, `dropped ${oldIndex}`]);
    assert.deepEqual(await indicesOf(es, alias), [index]);
    assert.notEqual(index, oldIndex);
    assert.equal(await es.indices.exists({ index: oldIndex! }), false, 'the old index is dropped');
    assert.deepEqual(await snapshot(), before);

    // The live indexer writes through the alias, so it now feeds the rebuilt index.
    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.updated(ids[1]!, { title: 'After the swap' })]);
    await waitFor('a write after the swap lands in the new index', async () => {
      const d = await es.get<StreamDocument>({ index, id: ids[1]! });
      return d._source?.title === 'After the swap';
    });
  });
});
