import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { dlqName } from '../../schemas/topics.ts';
import { testBus } from '../../tests/support/bus.ts';
import { endpoints } from '../../tests/support/endpoints.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { TcpProxy } from '../../tests/support/tcp-proxy.ts';
import { readTopicUntil } from '../../tests/support/topic.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { createElasticsearch, type Elasticsearch } from '../../platform/elasticsearch/client.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import { DLQ_HEADERS, headerString } from '../../platform/kafka/dead-letter.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { discoveryIndex } from '../../domain/discovery/index-definition.ts';
import { deleteIndices, ensureAliasedIndex } from '../../platform/elasticsearch/indices.ts';
import { versionOf, type StreamDocument } from '../../domain/discovery/document.ts';
import type { StreamLifecycleEvent, ViewerCountChanged } from '../../schemas/generated/events.ts';
import { DiscoveryIndexer } from './indexer.ts';
import { fold, type IndexedChange } from './project.ts';

const definition = discoveryIndex({ shards: 1, replicas: 0 });

describe('discovery indexer against real Kafka and Elasticsearch', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let es: Elasticsearch;
  let alias: string;
  let index: string;
  let indexer: DiscoveryIndexer;

  before(async () => {
    bus = testBus('indexer');
    await bus.init(['streamLifecycle', 'viewerCounts']);
    producer = bus.producer();
    await producer.connect();
    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    alias = uniqueName('streams');
    index = await ensureAliasedIndex(es, alias, definition);
    indexer = new DiscoveryIndexer(bus, es, {
      groupId: uniqueName('indexer'),
      target: alias,
      requireAlias: true,
      retry: { initialMs: 50, maxMs: 500 },
    });
    await indexer.start();
  });
  after(async () => {
    await indexer.stop();
    await producer.disconnect();
    await deleteIndices(es, [index]);
    await es.close();
  });

  const doc = async (id: string, client = es, where = alias) => {
    const res = await client.mget<StreamDocument>({ index: where, ids: [id] });
    const d = res.docs[0]!;
    return 'found' in d && d.found ? { source: d._source!, version: d._version! } : undefined;
  };

  it('folds lifecycle and viewer counts into one document per stream, versioned by position', async () => {
    const id = uniqueName('s');
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(id, { title: 'Dark Souls run', tags: ['souls'] }),
      streamEvents.updated(id, { category: 'Retro' }),
      streamEvents.wentLive(id, 1_795_600_019_500),
    ]);
    await producer.publish(bus.topic('viewerCounts'), [
      streamEvents.viewers(id, 10, 12),
      streamEvents.viewers(id, 1523, 1610),
    ]);
    const got = await waitFor('live document with its count', async () => {
      const d = await doc(id);
      return d?.source.status === 'live' && d.source.viewer_count === 1523 && d;
    });
    assert.equal(got.source.title, 'Dark Souls run');
    assert.equal(got.source.category, 'Retro');
    assert.deepEqual(got.source.tags, ['souls']);
    assert.equal(got.source.started_at, 1_795_600_019_500);
    assert.equal(got.source.peak_viewer_count, 1610);
    assert.equal(got.version, versionOf(got.source), 'the external version is derived from the offsets applied');

    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.ended(id)]);
    const ended = await waitFor('ended', async () => {
      const d = await doc(id);
      return d?.source.status === 'ended' && d;
    });
    assert.ok(ended.version > got.version);
    assert.equal(ended.source.viewer_count, 1523, 'a lifecycle write keeps the counts');
  });

  it('applying what is already applied changes nothing (idempotent redelivery)', async () => {
    const id = uniqueName('s');
    const created = streamEvents.created(id);
    await producer.publish(bus.topic('streamLifecycle'), [created]);
    const before = await waitFor('indexed', () => doc(id));
    await indexer.apply([{ source: 'lifecycle', offset: before.source.lifecycle_offset, event: created }]);
    assert.deepEqual(await doc(id), before);
  });

  it('dead-letters a document Elasticsearch refuses and indexes its neighbours', async () => {
    const bad = uniqueName('bad');
    const good = uniqueName('good');
    // A keyword longer than Lucene's 32766-byte term limit: the topic accepts it, the index cannot.
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(bad, { tags: ['x'.repeat(40_000)] }),
      streamEvents.created(good),
    ]);
    await waitFor('the good neighbour', () => doc(good));
    const dead = await readTopicUntil(bus, dlqName(bus.topicName('streamLifecycle')), (all) =>
      all.some((r) => r.key === bad),
    );
    const record = dead.find((r) => r.key === bad)!;
    assert.equal(headerString(record.headers, DLQ_HEADERS.reason), 'invalid');
    assert.match(headerString(record.headers, DLQ_HEADERS.error) ?? '', /bulk: 1 item\(s\) refused/);
    assert.equal(await doc(bad), undefined);
  });

  it('while Elasticsearch is unreachable it retries without committing, then indexes everything', async () => {
    const b = testBus('indexer-down');
    await b.init(['streamLifecycle', 'viewerCounts']);
    const proxy = TcpProxy.toUrl(endpoints().elasticsearchUrl, { up: false });
    const through = createElasticsearch({ url: await proxy.listen() });
    const groupId = uniqueName('indexer-down');
    const cut = new DiscoveryIndexer(b, through, {
      groupId,
      target: alias,
      requireAlias: true,
      retry: { initialMs: 50, maxMs: 200 },
    });
    const p = b.producer();
    await p.connect();
    const ids = [uniqueName('d'), uniqueName('d'), uniqueName('d')];
    try {
      await p.publish(
        b.topic('streamLifecycle'),
        ids.map((id) => streamEvents.created(id)),
      );
      await cut.start();
      await waitFor('retries while unreachable', async () =>
        /retriable="true"[^\n]* [1-9]/.test(
          await b.metrics.registry.getSingleMetricAsString('live_handler_errors_total'),
        ),
      );
      const committed = await b.withAdmin((admin) => admin.committedOffsets(groupId, [b.topicName('streamLifecycle')]));
      assert.ok(
        committed.every((x) => x.offset === -1),
        'nothing committed while the store is down',
      );
      for (const id of ids) assert.equal(await doc(id), undefined);

      proxy.setUp(true);
      await waitFor('all three indexed once the cluster is back', async () =>
        (await Promise.all(ids.map((id) => doc(id)))).every(Boolean),
      );
      const dead = await b.metrics.registry.getSingleMetricAsString('live_events_dead_lettered_total');
      assert.doesNotMatch(dead, /\} [1-9]/, 'nothing dead-lettered for an outage');
    } finally {
      await cut.stop();
      await p.disconnect();
      await through.close();
      await proxy.close();
    }
  });

  it('two members of one group end with the documents one would write, lifecycle and counts interleaved', async () => {
    const b = testBus('indexer-pair');
    await b.init(['streamLifecycle', 'viewerCounts']);
    const pairAlias = uniqueName('pair');
    const pairIndex = await ensureAliasedIndex(es, pairAlias, definition);
    const groupId = uniqueName('pair');
    const member = () =>
      new DiscoveryIndexer(b, es, {
        groupId,
        target: pairAlias,
        requireAlias: true,
        retry: { initialMs: 50, maxMs: 500 },
      });
    const [one, two] = [member(), member()];
    const p = b.producer();
    await p.connect();
    const ids = Array.from({ length: 60 }, () => uniqueName('p'));
    const changes: IndexedChange[] = [];
    let lifecycleAt = 0;
    let countsAt = 0;
    const lifecycle = async (events: StreamLifecycleEvent[]) => {
      await p.publish(b.topic('streamLifecycle'), events);
      for (const event of events) changes.push({ source: 'lifecycle', offset: lifecycleAt++, event });
    };
    const counts = async (events: ViewerCountChanged[]) => {
      await p.publish(b.topic('viewerCounts'), events);
      for (const event of events) changes.push({ source: 'viewers', offset: countsAt++, event });
    };
    try {
      // Counts before some streams exist, members joining between waves (a rebalance), both topics
      // in every wave: rounds mix topics and streams, and each member remembers what it wrote.
      await counts(ids.slice(0, 20).map((id) => streamEvents.viewers(id, 5)));
      await one.start();
      await lifecycle(ids.map((id) => streamEvents.created(id, { title: `t ${id}` })));
      await counts(ids.map((id, i) => streamEvents.viewers(id, i, i + 1)));
      await two.start();
      await lifecycle(ids.map((id) => streamEvents.wentLive(id)));
      await counts(ids.slice(10).map((id, i) => streamEvents.viewers(id, 100 + i, 200)));
      await lifecycle(ids.slice(0, 30).map((id) => streamEvents.updated(id, { title: `u ${id}` })));
      await lifecycle(ids.slice(0, 15).map((id) => streamEvents.ended(id)));
      await counts(ids.slice(0, 40).map((id, i) => streamEvents.viewers(id, 300 + i, 400)));

      // Offsets aside: the spec numbers each topic's records in publish order, which orders one
      // stream's events as the partition does.
      const strip = (d: StreamDocument | undefined) => d && { ...d, lifecycle_offset: 0, viewers_offset: 0 };
      const want = fold(new Map(), changes);
      await waitFor('every document as one indexer folds it', async () => {
        for (const id of ids) {
          const got = await doc(id, es, pairAlias);
          if (!got) return false;
          assert.equal(got.version, versionOf(got.source));
          if (!isDeepStrictEqual(strip(got.source), strip(want.get(id)))) return false;
        }
        return true;
      });
    } finally {
      await Promise.all([one.stop(), two.stop()]);
      await p.disconnect();
      await deleteIndices(es, [pairIndex]);
    }
  });
});
