import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { testBus } from './support/bus.ts';
import { endpoints } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitForGroupToReachEnd } from '../platform/kafka/groups.ts';
import { createElasticsearch, type Elasticsearch } from '../platform/elasticsearch/client.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import { discoveryIndex } from '../domain/discovery/index-definition.ts';
import { deleteIndices, dumpIndex, ensureAliasedIndex, indicesOf } from '../platform/elasticsearch/indices.ts';
import { DiscoveryIndexer, INDEXED_TOPICS } from '../processors/discovery-indexer/indexer.ts';
import { compareDumps } from '../platform/store/compare.ts';
import { REPO_ROOT } from '../platform/paths.ts';

const root = REPO_ROOT;
const execFileP = promisify(execFile);

describe('the replay command (real Kafka, registry and Elasticsearch)', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let es: Elasticsearch;
  let live: DiscoveryIndexer;
  const alias = uniqueName('replaycli');
  const made: string[] = [];

  /** Runs `npm run replay -- …` as an operator would; resolves with its exit code and output. */
  async function replay(...args: string[]): Promise<{ code: number; out: string }> {
    const e = endpoints();
    const env = {
      ...process.env,
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      ELASTICSEARCH_URL: e.elasticsearchUrl,
      LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
      DISCOVERY_ALIAS: alias,
    };
    try {
      const { stdout, stderr } = await execFileP(
        process.execPath,
        ['--import', 'tsx', 'tools/replay/cli.ts', ...args],
        {
          cwd: root,
          env,
        },
      );
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  }

  const settle = () =>
    waitForGroupToReachEnd(
      bus,
      live.groupId,
      INDEXED_TOPICS.map((k) => bus.topicName(k)),
      { deadlineMs: 60_000 },
    );

  before(async () => {
    bus = testBus('replaycli');
    await bus.init([...INDEXED_TOPICS]);
    producer = bus.producer();
    await producer.connect();
    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    await ensureAliasedIndex(es, alias, discoveryIndex({ shards: 1, replicas: 0 }));
    // The group the command treats as the live indexer's: LIVE_TOPIC_PREFIX + DISCOVERY_GROUP_ID.
    live = new DiscoveryIndexer(bus, es, {
      groupId: `${bus.config.topicPrefix}discovery-indexer`,
      target: alias,
      requireAlias: true,
    });
    await live.start();
  });
  after(async () => {
    await live.stop();
    await producer.disconnect();
    await deleteIndices(es, [...(await indicesOf(es, alias)), ...made]);
    await es.close();
  });

  it('--as-of rebuilds the index as it stood then, equal to a snapshot taken at that time', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `asof_${i}`);
    await producer.publish(
      bus.topic('streamLifecycle'),
      ids.flatMap((id, i) => [
        streamEvents.created(id, { title: `Before ${i}`, category: i % 2 ? 'Gaming' : 'Music' }),
        ...(i % 2 ? [streamEvents.wentLive(id)] : []),
      ]),
    );
    await producer.publish(
      bus.topic('viewerCounts'),
      ids.map((id, i) => streamEvents.viewers(id, i * 3)),
    );
    await settle();
    await es.indices.refresh({ index: alias });
    const snapshot = await dumpIndex(es, alias);
    const asOf = Date.now();
    await new Promise((r) => setTimeout(r, 20));

    // After the snapshot: renames, ends, new viewers, a new stream.
    await producer.publish(bus.topic('streamLifecycle'), [
      ...ids.slice(0, 6).map((id) => streamEvents.updated(id, { title: 'After the snapshot' })),
      ...ids.filter((_, i) => i % 2).map((id) => streamEvents.ended(id)),
      streamEvents.created('asof_new', { title: 'Born later' }),
    ]);
    await producer.publish(
      bus.topic('viewerCounts'),
      ids.map((id) => streamEvents.viewers(id, 999)),
    );
    await settle();
    await es.indices.refresh({ index: alias });
    assert.notDeepEqual(compareDumps(snapshot, await dumpIndex(es, alias)), [], 'the live index has moved on');

    const r = await replay('discovery', '--as-of', new Date(asOf).toISOString());
    assert.equal(r.code, 0, r.out);
    const target = /rebuilt into (\S+)/.exec(r.out)?.[1];
    assert.ok(target, r.out);
    made.push(target);
    assert.deepEqual(
      await indicesOf(es, alias),
      (await indicesOf(es, alias)).filter((i) => i !== target),
    );
    assert.deepEqual(compareDumps(snapshot, await dumpIndex(es, target)), []);
  });

  it('--verify reports equality, and names the documents that differ when the live index is wrong', async () => {
    await settle();
    const ok = await replay('discovery', '--verify');
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /verified: the rebuilt store equals the live/);
    assert.match(ok.out, /replay discovery: \d+\/\d+ events \(100%\)/, 'plain progress lines off a terminal');

    // Damage the live index behind the indexer's back: verify must notice.
    const [index] = await indicesOf(es, alias);
    await es.update({ index: index!, id: 'asof_3', doc: { title: 'tampered' }, refresh: true });
    await es.delete({ index: index!, id: 'asof_4', refresh: true });
    const bad = await replay('discovery', '--verify');
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /2 difference\(s\)/);
    assert.match(bad.out, /changed +asof_3: title/);
    assert.match(bad.out, /only in rebuilt +asof_4/);
  });

  it('explains bad usage', async () => {
    const r = await replay('nonsense');
    assert.equal(r.code, 2);
    assert.match(r.out, /'nonsense' is invalid for argument 'store'\. Allowed choices are discovery, chat/);
    const future = await replay('discovery', '--as-of', '2999-01-01T00:00:00Z');
    assert.equal(future.code, 2);
    assert.match(future.out, /is in the future/);
  });
});
