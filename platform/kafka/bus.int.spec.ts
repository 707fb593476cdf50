import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { TOPICS, dlqName } from '../../schemas/topics.ts';
import { testBus as testBusOn } from '../../tests/support/bus.ts';
import { endpoints } from '../../tests/support/endpoints.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { readTopicUntil } from '../../tests/support/topic.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { PoisonRecordError, TransientError } from '../errors.ts';
import type { EventBus } from './bus.ts';
import type { ConsumedEvent } from './consumer.ts';
import { DLQ_HEADERS, headerString } from './dead-letter.ts';
import { KAFKA_CLIENTS, type KafkaClientName } from './driver.ts';
import { waitForGroupToReachEnd } from './groups.ts';
import type { EventProducer } from './producer.ts';
import { SchemaRegistryClient } from './registry.ts';
import type { StartPosition } from './start.ts';
import { frame } from './wire.ts';
import { REPO_ROOT } from '../paths.ts';

const fixtures = JSON.parse(
  readFileSync(resolve(REPO_ROOT, 'schemas/fixtures/streamLifecycle.json'), 'utf8'),
) as StreamLifecycleEvent[];
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

// Every client the bus can run on (driver.ts) passes the same spec, whichever is the default.
for (const client of KAFKA_CLIENTS) describeBus(client);

function describeBus(client: KafkaClientName): void {
  const testBus = (label: string): EventBus => testBusOn(label, client);
  describe(`event bus against real Kafka and the schema registry (${client})`, () => {
    let bus: EventBus;
    let producer: EventProducer;

    before(async () => {
      bus = testBus('bus');
      await bus.init(['streamLifecycle']);
      producer = bus.producer();
      await producer.connect();
    });
    after(async () => {
      await producer.disconnect();
    });

    it('round-trips every lifecycle event kind, in order, as Confluent wire-format Avro', async () => {
      const topic = bus.topic('streamLifecycle');
      await producer.publish(topic, fixtures);

      const got: ConsumedEvent<StreamLifecycleEvent>[] = [];
      const consumer = bus.consumer({ groupId: `${topic.name}.roundtrip`, from: 'earliest' });
      consumer.on(topic, async (records) => {
        got.push(...records);
      });
      await consumer.start();
      await waitFor('all fixtures consumed', () => got.length >= fixtures.length);
      await consumer.stop();

      assert.deepEqual(plain(got.map((r) => r.event)), fixtures);
      assert.ok(
        got.every((r) => r.key === 'stream_abc123'),
        'keyed by streamId',
      );
      assert.equal(new Set(got.map((r) => r.partition)).size, 1, 'one stream, one partition');

      // Any standard tool reads the topic: decode the raw bytes with the stock Confluent client.
      const values = (await readTopicUntil(bus, topic.name, (all) => all.length >= fixtures.length)).map(
        (r) => r.value!,
      );
      assert.equal(values[0]![0], 0, 'magic byte');
      assert.equal(values[0]!.readInt32BE(1), topic.codec.id, 'schema id of the registered subject');
      const stock = new SchemaRegistry({ host: endpoints().registryUrl });
      const decoded = (await stock.decode(values[0]!)) as { streamId: string; payload: Record<string, unknown> };
      assert.equal(decoded.streamId, 'stream_abc123');
      assert.ok('live.stream.StreamCreated' in decoded.payload);
    });

    it('services registering the same new subject at once all succeed (the registry races on its config rule)', async () => {
      const schema = { type: 'record', name: 'Race', namespace: 'live.test', fields: [{ name: 'n', type: 'int' }] };
      // The race is narrow: ten fresh subjects, eight services each, lost it in every run before the fix.
      for (let round = 0; round < 10; round++) {
        const subject = `${uniqueName('race')}-value`;
        const clients = Array.from({ length: 8 }, () => new SchemaRegistryClient(endpoints().registryUrl));
        const ids = await Promise.all(clients.map((c) => c.register(subject, schema)));
        assert.equal(new Set(ids).size, 1, subject);
      }
    });

    it('dead-letters undecodable records with the reason and origin, and keeps going', async () => {
      const topic = bus.topic('streamLifecycle');
      const bad = [
        { key: 'k1', value: Buffer.from('{"not":"avro"}') },
        { key: 'k1', value: frame(2_000_000_000, Buffer.from([2, 4, 6])) },
        { key: 'k1', value: frame(topic.codec.id, Buffer.from([0xff, 0xff])) },
      ];
      await producer.sendRaw(topic.name, bad);
      await producer.publish(topic, [{ ...fixtures[0]!, streamId: 'k1' }]);

      const got: StreamLifecycleEvent[] = [];
      const consumer = bus.consumer({ groupId: `${topic.name}.dlq-test`, from: 'earliest' });
      consumer.on(topic, async (records) => void got.push(...records.map((r) => r.event)));
      await consumer.start();
      await waitFor('the good k1 event', () => got.some((e) => e.streamId === 'k1'));
      await consumer.stop();

      const dead = await readTopicUntil(bus, dlqName(topic.name), (all) => all.length >= 3);
      const reasons = dead.map((d) => headerString(d.headers, DLQ_HEADERS.reason));
      assert.deepEqual(reasons, ['not-wire-format', 'unknown-schema', 'undecodable']);
      for (const d of dead) {
        assert.equal(headerString(d.headers, DLQ_HEADERS.topic), topic.name);
        assert.match(headerString(d.headers, DLQ_HEADERS.offset) ?? '', /^\d+$/);
        assert.match(headerString(d.headers, DLQ_HEADERS.partition) ?? '', /^\d+$/);
        assert.ok((headerString(d.headers, DLQ_HEADERS.error) ?? '').length > 0);
      }
      assert.deepEqual(dead[0]!.value, bad[0]!.value, 'original bytes kept for re-drive');
      const metric = await bus.metrics.registry.getSingleMetricAsString('live_events_dead_lettered_total');
      assert.match(metric, /reason="unknown-schema"[^\n]* 1/);
    });

    it('dead-letters only the record a handler rejects; its neighbours are applied', async () => {
      const topic = bus.topic('streamLifecycle');
      const ids = ['h1', 'h2', 'h3'];
      await producer.publish(
        topic,
        ids.map((id, i) => ({
          ...fixtures[0]!,
          eventId: `00000000-0000-4000-8000-00000000000${i}`,
          streamId: 'handler' + id,
        })),
      );
      const applied: string[] = [];
      const consumer = bus.consumer({ groupId: `${topic.name}.reject`, from: 'earliest' });
      consumer.on(topic, async (records) => {
        if (records.some((r) => r.event.streamId === 'handlerh2')) {
          if (records.length === 1) throw new PoisonRecordError('title is not allowed', 'invalid');
          throw new Error('batch contains a bad record');
        }
        applied.push(...records.map((r) => r.event.streamId));
      });
      await consumer.start();
      await waitFor('h1 and h3 applied', () => applied.includes('handlerh1') && applied.includes('handlerh3'));
      // Earlier records of this topic are dead-lettered again by this group: wait for h2 itself,
      // before stopping, since its partition may still be working through those.
      const dead = await readTopicUntil(bus, dlqName(topic.name), (all) => all.some((d) => d.key === 'handlerh2'));
      await consumer.stop();
      assert.ok(!applied.includes('handlerh2'));
      const rejected = dead.find((d) => d.key === 'handlerh2');
      assert.ok(rejected, 'the rejected record is in the DLQ');
      assert.equal(headerString(rejected.headers, DLQ_HEADERS.reason), 'invalid');
    });

    it('retries a retriable failure without committing, then commits once the effect is durable', async () => {
      const b = testBus('retry');
      await b.init(['streamLifecycle']);
      const topic = b.topic('streamLifecycle');
      const p = b.producer();
      await p.connect();
      await p.publish(topic, [fixtures[0]!]);
      await p.disconnect();

      let attempts = 0;
      const groupId = `${topic.name}.retry`;
      const admin = b.admin();
      const committed = async (): Promise<number[]> =>
        (await admin.committedOffsets(groupId, [topic.name])).map((x) => x.offset);
      let committedDuringFailures: number[] = [];
      const consumer = b.consumer({ groupId, from: 'earliest', retry: { initialMs: 50, maxMs: 200 } });
      consumer.on(topic, async () => {
        attempts++;
        if (attempts === 3) committedDuringFailures = await committed();
        if (attempts < 4) throw new TransientError('cassandra is restarting');
      });
      await consumer.start();
      await waitFor('success after retries', () => attempts >= 4);
      await waitFor('offset committed', async () => (await committed()).some((o) => o === 1));
      await consumer.stop();
      await admin.close();
      assert.ok(
        committedDuringFailures.every((o) => o === -1),
        `nothing committed while failing: ${committedDuringFailures.join(',')}`,
      );
      const retried = await b.metrics.registry.getSingleMetricAsString('live_handler_errors_total');
      assert.match(retried, /retriable="true"[^\n]* 3/);
    });

    it('reading ahead, every partition still hands its records over once each and in order', async () => {
      const b = testBus('ahead');
      await b.init(['streamLifecycle']);
      const topic = b.topic('streamLifecycle');
      const p = b.producer();
      await p.connect();
      const n = 600;
      await p.publish(
        topic,
        Array.from({ length: n }, (_, i) => ({
          ...fixtures[0]!,
          eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          streamId: `ahead_${i % 12}`,
        })),
      );
      await p.disconnect();
      const groupId = `${topic.name}.ahead`;
      const seen = new Map<number, number[]>();
      let inHandlers = 0;
      let mostAtOnce = 0;
      const consumer = b.consumer({
        groupId,
        from: 'earliest',
        maxBatch: 10,
        readAhead: 50,
        partitionsConcurrently: 3,
      });
      consumer.on(topic, async (records) => {
        mostAtOnce = Math.max(mostAtOnce, ++inHandlers);
        // A slow store: batches pile up behind it while the next ones are fetched.
        await new Promise((r) => setTimeout(r, 5));
        for (const r of records) seen.set(r.partition, [...(seen.get(r.partition) ?? []), Number(r.offset)]);
        inHandlers--;
      });
      await consumer.start();
      await waitForGroupToReachEnd(b, groupId, [topic.name], { deadlineMs: 60_000 });
      await consumer.stop();
      const offsets = [...seen.values()];
      assert.equal(
        offsets.reduce((k, o) => k + o.length, 0),
        n,
        'every record once',
      );
      for (const o of offsets)
        assert.deepEqual(
          o,
          [...o].sort((x, y) => x - y),
          'in offset order',
        );
      assert.ok(mostAtOnce <= 3, `at most 3 partitions handled at once, saw ${mostAtOnce}`);
    });

    it('a consumer restarted in the same group resumes after what the last one committed', async () => {
      const b = testBus('resume');
      await b.init(['streamLifecycle']);
      const topic = b.topic('streamLifecycle');
      const p = b.producer();
      await p.connect();
      const groupId = `${topic.name}.resume`;
      const mk = (n: number) => ({
        ...fixtures[0]!,
        eventId: `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
      });
      await p.publish(topic, [1, 2, 3].map(mk));
      const first: string[] = [];
      const c1 = b.consumer({ groupId, from: 'earliest' });
      c1.on(topic, async (rs) => void first.push(...rs.map((r) => r.event.eventId)));
      await c1.start();
      await waitFor('first three', () => first.length === 3);
      await c1.stop();

      await p.publish(topic, [4, 5].map(mk));
      await p.disconnect();
      const second: string[] = [];
      const c2 = b.consumer({ groupId, from: 'earliest' });
      c2.on(topic, async (rs) => void second.push(...rs.map((r) => r.event.eventId)));
      await c2.start();
      await waitFor('the two new ones', () => second.length >= 2);
      await c2.stop();
      assert.deepEqual(
        second,
        [4, 5].map((n) => mk(n).eventId),
      );
    });

    it('starts where it is told: at a time or at offsets over what the group committed, or at the end', async () => {
      const b = testBus('from');
      await b.init(['streamLifecycle']);
      const topic = b.topic('streamLifecycle');
      const events = [0, 1, 2, 3].map((n) => ({ ...fixtures[0]!, eventId: `00000000-0000-4000-8000-0000000001${n}0` }));
      // Broker timestamps a second apart, so "at or after a time" has one answer.
      const t0 = Date.now() - 60_000;
      const raw = b.driver.producer();
      await raw.connect();
      await raw.send(
        topic.name,
        events.map((e, i) => ({ key: e.streamId, value: topic.codec.encode(e), timestamp: t0 + i * 1000 })),
      );
      await raw.disconnect();
      const partition = (await b.withAdmin((admin) => admin.topicOffsets(topic.name))).find(
        (p) => p.high > 0,
      )!.partition;
      assert.deepEqual(
        (await b.withAdmin((admin) => admin.offsetsAt(topic.name, t0 + 1500))).find((p) => p.partition === partition),
        { topic: topic.name, partition, offset: 2 },
      );

      const groupId = `${topic.name}.from`;
      const read = async (from: StartPosition, n: number): Promise<string[]> => {
        const got: string[] = [];
        const c = b.consumer({ groupId, from });
        c.on(topic, async (rs) => void got.push(...rs.map((r) => r.event.eventId)));
        await c.start();
        await waitFor(`${n} records`, () => got.length >= n);
        await c.stop();
        return got.slice(0, n);
      };
      const ids = (...ns: number[]): string[] => ns.map((n) => events[n]!.eventId);
      assert.deepEqual(await read('earliest', 4), ids(0, 1, 2, 3));
      // The group has committed the end: an explicit position still wins.
      assert.deepEqual(await read({ timestamp: t0 + 1500 }, 2), ids(2, 3));
      assert.deepEqual(await read({ offsets: [{ topic: topic.name, partition, offset: 1 }] }, 3), ids(1, 2, 3));

      // Nothing after the time: the group stands at the end at once, and reads what comes next.
      const got: string[] = [];
      const c = b.consumer({ groupId: `${groupId}.late`, from: { timestamp: Date.now() + 3_600_000 } });
      c.on(topic, async (rs) => void got.push(...rs.map((r) => r.event.eventId)));
      await c.start();
      await waitForGroupToReachEnd(b, `${groupId}.late`, [topic.name], { deadlineMs: 10_000 });
      const next = { ...fixtures[0]!, eventId: '00000000-0000-4000-8000-000000000150' };
      const p = b.producer();
      await p.connect();
      await p.publish(topic, [next]);
      await p.disconnect();
      await waitFor('the record published after the start', () => got.includes(next.eventId));
      await c.stop();
      assert.deepEqual(got, [next.eventId]);
    });

    it('publishes in flight at once all land, each key in the order it was published', async () => {
      const b = testBus('overlap');
      await b.init(['streamLifecycle']);
      const topic = b.topic('streamLifecycle');
      const p = b.producer();
      await p.connect();
      // Eight publishes at once over a few keys: every partition gets records from several of them.
      const calls = Array.from({ length: 8 }, (_, call) =>
        Array.from({ length: 50 }, (_, i) => ({
          ...fixtures[0]!,
          streamId: `overlap${i % 5}`,
          eventId: `00000000-0000-4000-8000-${String(call * 100 + i).padStart(12, '0')}`,
        })),
      );
      await Promise.all(calls.map((events) => p.publish(topic, events)));
      await p.disconnect();
      const ends = await b.withAdmin((admin) => admin.topicOffsets(topic.name));
      assert.equal(
        ends.reduce((n, e) => n + e.high, 0),
        400,
        'every acknowledged record is on the topic',
      );

      const got: StreamLifecycleEvent[] = [];
      const c = b.consumer({ groupId: `${topic.name}.overlap`, from: 'earliest' });
      c.on(topic, async (rs) => void got.push(...rs.map((r) => r.event)));
      await c.start();
      await waitFor('all 400', () => got.length >= 400);
      await c.stop();
      for (const events of calls) {
        for (let key = 0; key < 5; key++) {
          const sent = events.filter((e) => e.streamId === `overlap${key}`).map((e) => e.eventId);
          const seen = got.filter((e) => sent.includes(e.eventId)).map((e) => e.eventId);
          assert.deepEqual(seen, sent, `overlap${key}: one publish's records in order`);
        }
      }
    });

    it('a second member splits the partitions with the first; every record is handled', async () => {
      const b = testBus('members');
      await b.init(['streamLifecycle']);
      const topic = b.topic('streamLifecycle');
      const groupId = `${topic.name}.members`;
      const handled = new Set<string>();
      const assignments: Array<Record<string, number[]>> = [];
      const member = () =>
        b
          .consumer({ groupId, from: 'earliest', onAssigned: (a) => void assignments.push(a) })
          .on(topic, async (rs) => void rs.forEach((r) => handled.add(r.event.eventId)));
      const p = b.producer();
      await p.connect();
      const events = Array.from({ length: 60 }, (_, i) => ({
        ...fixtures[0]!,
        streamId: `member${i}`,
        eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      }));
      await p.publish(topic, events.slice(0, 30));
      const c1 = member();
      await c1.start();
      await waitFor('the first half', () => handled.size >= 30);
      const c2 = member();
      await c2.start();
      await waitFor('a rebalance that gives each member a share', () => {
        const last = assignments.slice(-2).map((a) => a[topic.name] ?? []);
        return last.length === 2 && last.every((ps) => ps.length > 0);
      });
      await p.publish(topic, events.slice(30));
      await p.disconnect();
      await waitFor('every record', () => handled.size >= 60);
      await Promise.all([c1.stop(), c2.stop()]);
      const [x, y] = assignments.slice(-2).map((a) => a[topic.name]!);
      assert.equal(x!.filter((partition) => y!.includes(partition)).length, 0, 'no partition held by both');
      assert.equal(x!.length + y!.length, TOPICS.streamLifecycle.partitions, 'every partition held');
    });

    it('commits on its interval and on stop, not after every batch', async () => {
      const b = testBus('commits');
      await b.init(['streamLifecycle']);
      const topic = b.topic('streamLifecycle');
      const p = b.producer();
      await p.connect();
      const groupId = `${topic.name}.commits`;
      const committed = async (): Promise<number> =>
        (await b.withAdmin((admin) => admin.committedOffsets(groupId, [topic.name]))).reduce(
          (n, x) => n + Math.max(0, x.offset),
          0,
        );
      const seen: string[] = [];
      const c = b.consumer({ groupId, from: 'earliest', commitIntervalMs: 3_600_000 });
      c.on(topic, async (rs) => void seen.push(...rs.map((r) => r.event.eventId)));
      await c.start();
      // Separate sends, so the records arrive in several batches.
      for (const f of fixtures.slice(0, 3)) {
        await p.publish(topic, [f]);
        await waitFor('handled', () => seen.includes(f.eventId));
      }
      await p.disconnect();
      assert.equal(await committed(), 0, 'nothing committed before the interval');
      await c.stop();
      assert.equal(await committed(), 3, 'what was handled is committed on stop');
    });
  });
}
