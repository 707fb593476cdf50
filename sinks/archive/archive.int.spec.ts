import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { testBus } from '../../tests/support/bus.ts';
import { chatEvents } from '../../tests/support/chat-events.ts';
import { serverEnv } from '../../tests/support/endpoints.ts';
import { ServiceProcess } from '../../tests/support/process.ts';
import { waitFor } from '../../tests/support/wait.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { frame } from '../../platform/kafka/wire.ts';
import { REPO_ROOT } from '../../platform/paths.ts';
import { TOPICS, subjectOf, type TopicKey } from '../../schemas/topics.ts';
import { archiveGlob } from '../../domain/archive/layout.ts';
import { Archiver } from './archiver.ts';
import { ParquetWriter } from './parquet.ts';

const KEYS = Object.keys(TOPICS) as TopicKey[];
const fixtures = (key: string): Array<Record<string, unknown>> =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'fixtures', `${key}.json`), 'utf8')) as Array<
    Record<string, unknown>
  >;

/** Rows of a query over the archive, BigInts as numbers and timestamps as epoch ms. */
async function query(conn: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> {
  const reader = await conn.runAndReadAll(sql);
  return reader
    .getRowObjectsJS()
    .map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : v]),
      ),
    );
}

const files = async (root: string): Promise<string[]> =>
  (await readdir(root, { recursive: true })).map(String).filter((f) => f.endsWith('.parquet') || f.includes('.tmp'));

describe('archive sink (real Kafka, real registry, Parquet through DuckDB)', () => {
  let duck: DuckDBInstance;
  let conn: DuckDBConnection;
  const roots: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    conn.closeSync();
    duck.closeSync();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  const newRoot = async (): Promise<string> => {
    const r = await mkdtemp(join(tmpdir(), 'archive-'));
    roots.push(r);
    return r;
  };

  it('archives every topic: the archive equals the topic, a new schema field is a new column, poison is dead-lettered', async () => {
    const bus: EventBus = testBus('archive');
    await bus.init();
    const producer: EventProducer = bus.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const published = new Map<TopicKey, Array<Record<string, unknown>>>();
    for (const key of KEYS) {
      const events = fixtures(key);
      await producer.publish(bus.topic(key), events as never[]);
      published.set(key, events);
    }
    // Enough chat to need several files per partition.
    const chat = Array.from({ length: 300 }, (_, i) =>
      chatEvents.sent(`s-${i % 5}`, { userId: `u${i % 7}`, content: `hello ${i}`, badges: i % 2 ? ['vip'] : [] }),
    );
    await producer.publish(bus.topic('chatMessages'), chat);
    published.get('chatMessages')!.push(...(chat as never[]));
    // A producer on a newer schema: one more optional envelope field.
    const chatTopic = bus.topicName('chatMessages');
    const v2 = bus.valueSchema('chatMessages') as { fields: unknown[] };
    const v2Schema = { ...v2, fields: [...v2.fields, { name: 'region', type: ['null', 'string'], default: null }] };
    const v2Id = await bus.registry.register(subjectOf(chatTopic), v2Schema);
    const v2Type = avro.Type.forSchema(v2Schema as avro.Schema, { wrapUnions: 'auto' });
    const newer = chatEvents.sent('s-new', { userId: 'u-new', content: 'from the future' });
    const { type: _t, ...fields } = newer.payload;
    await producer.sendRaw(chatTopic, [
      {
        key: Buffer.from('s-new'),
        value: frame(
          v2Id,
          v2Type.toBuffer({ ...newer, payload: { 'live.chat.ChatMessageSent': fields }, region: 'eu-west' }),
        ),
      },
      { key: Buffer.from('s-bad'), value: Buffer.from('not avro at all') },
    ]);

    const root = await newRoot();
    const writer = await ParquetWriter.open();
    const archiver = new Archiver(bus, writer, bus.log, bus.metrics, {
      root,
      topics: KEYS,
      groupId: `${bus.config.topicPrefix}archive`,
      flushRecords: 25,
      flushMs: 200,
      maxBatch: 50,
      partitionsConcurrently: 4,
    });
    await archiver.start();
    cleanups.push(async () => {
      await archiver.stop();
      writer.close();
    });

    const expected = (key: TopicKey): number => published.get(key)!.length + (key === 'chatMessages' ? 1 : 0);
    await waitFor(
      'every topic archived',
      async () => {
        for (const key of KEYS) {
          const glob = archiveGlob(root, TOPICS[key].base);
          if ((await files(join(root, `topic=${TOPICS[key].base}`)).catch(() => [])).length === 0) return false;
          const [row] = await query(conn, `SELECT count(*) AS n FROM read_parquet('${glob}', union_by_name = true)`);
          if (row!.n !== expected(key)) return false;
        }
        return true;
      },
      90_000,
    );

    for (const key of KEYS) {
      const rows = await query(
        conn,
        `SELECT * FROM read_parquet('${archiveGlob(root, TOPICS[key].base)}', union_by_name = true, hive_partitioning = true)`,
      );
      assert.equal(rows.length, expected(key), key);
      // Every offset once.
      assert.equal(
        new Set(rows.map((r) => `${String(r.kafka_partition)}/${String(r.kafka_offset)}`)).size,
        rows.length,
      );
      // Field by field, for every event published through the codec.
      const byId = new Map(rows.map((r) => [r.eventId, r]));
      for (const e of published.get(key)!) {
        const r = byId.get(e.eventId);
        assert.ok(r, `${key} ${String(e.eventId)} archived`);
        assert.equal(r.occurredAt, e.occurredAt);
        assert.equal(r.kafka_topic, bus.topicName(key));
        assert.equal(r.topic, TOPICS[key].base, 'the Hive folder names the topic');
        assert.equal(r.kafka_key, String(e[TOPICS[key].key]));
        for (const [field, value] of Object.entries(e)) {
          if (field === 'payload' || field === 'occurredAt' || typeof value === 'object') continue;
          assert.deepEqual(r[field], value, `${key}.${field}`);
        }
        const payload = e.payload as Record<string, unknown> | undefined;
        if (payload) {
          assert.equal(r.payload_type, payload.type);
          for (const [field, value] of Object.entries(payload)) {
            if (field === 'type' || (typeof value === 'object' && !Array.isArray(value))) continue;
            const column: unknown = r[`${String(payload.type)}_${field}`];
            // Arrays of records are kept as their JSON text.
            const got: unknown = Array.isArray(value) && typeof column === 'string' ? JSON.parse(column) : column;
            assert.deepEqual(got, value, `${key}.${String(payload.type)}.${field}`);
          }
        }
      }
    }

    const [evolved] = await query(
      conn,
      `SELECT region, schema_id, ChatMessageSent_content AS content,
         count(*) FILTER (WHERE region IS NULL) OVER () AS older
       FROM read_parquet('${archiveGlob(root, TOPICS.chatMessages.base)}', union_by_name = true) WHERE streamId = 's-new'`,
    );
    assert.deepEqual(evolved, { region: 'eu-west', schema_id: v2Id, content: 'from the future', older: 0 });
    const dead = (await bus.metrics.deadLettered.get()).values.reduce((n, v) => n + v.value, 0);
    assert.equal(dead, 1, 'the record that does not decode went to the dead-letter topic');
    assert.deepEqual(
      (await files(root)).filter((f) => f.split('/').pop()!.startsWith('.')),
      [],
      'no temporary file left',
    );
  });

  it('a kill mid-batch, then a restart: every record once, no half-written file visible', async () => {
    const bus = testBus('archive-kill');
    await bus.init(['chatMessages']);
    const producer = bus.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const events = Array.from({ length: 3000 }, (_, i) =>
      chatEvents.sent(`s-${i % 12}`, { userId: `u${i % 50}`, content: `m${i}` }),
    );
    await producer.publish(bus.topic('chatMessages'), events);
    const root = await newRoot();
    const env = {
      ...serverEnv(bus.config.topicPrefix),
      ARCHIVE_ROOT: root,
      ARCHIVE_TOPICS: 'chatMessages',
      ARCHIVE_FLUSH_RECORDS: '40',
      ARCHIVE_FLUSH_MS: '600000',
      ARCHIVE_MAX_BATCH: '20',
      METRICS_PORT: '0',
      LOG_LEVEL: 'debug',
    };
    const first = new ServiceProcess('archive-1', 'sinks/archive/main.ts', env);
    cleanups.push(async () => void (await first.kill('SIGKILL')));
    await waitFor('a few files written', async () => (await files(root)).length >= 8, 90_000);
    await first.kill('SIGKILL');
    const atKill = (await files(root)).filter((f) => f.endsWith('.parquet')).length;

    // What a writer killed inside a file leaves: a hidden temporary file, which no glob sees.
    const hour = (await readdir(join(root, `topic=${TOPICS.chatMessages.base}`)))[0]!;
    const dir = join(root, `topic=${TOPICS.chatMessages.base}`, hour);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.0-999990-999999.parquet.tmp'), 'PAR1 half a file');
    const glob = archiveGlob(root, TOPICS.chatMessages.base);
    const [mid] = await query(conn, `SELECT count(*) AS n FROM read_parquet('${glob}')`);
    assert.ok((mid!.n as number) < events.length, `killed before the end (${String(mid!.n)} of ${events.length})`);

    // The restart writes the rest, some of it read again from before the last commit.
    const second = new ServiceProcess('archive-2', 'sinks/archive/main.ts', { ...env, ARCHIVE_FLUSH_MS: '300' });
    cleanups.push(async () => void (await second.kill('SIGKILL')));
    await waitFor(
      'every record archived',
      async () => (await query(conn, `SELECT count(*) AS n FROM read_parquet('${glob}')`))[0]!.n === events.length,
      120_000,
    );
    const [check] = await query(
      conn,
      `SELECT count(*) AS n, count(DISTINCT (kafka_partition, kafka_offset)) AS distinct_offsets,
         count(DISTINCT eventId) AS distinct_events FROM read_parquet('${glob}')`,
    );
    assert.deepEqual(check, { n: events.length, distinct_offsets: events.length, distinct_events: events.length });
    const names = await files(root);
    assert.ok(names.filter((f) => f.endsWith('.parquet')).length > atKill);
    assert.deepEqual(
      names.filter((f) => f.split('/').pop()!.startsWith('.')),
      [],
      'the half-written file was removed',
    );
    // File ranges of a partition never overlap.
    const ranges = names
      .map((f) => /(\d+)-(\d+)-(\d+)\.parquet$/.exec(f))
      .filter((m) => m !== null)
      .map((m) => ({ p: Number(m[1]), first: Number(m[2]), last: Number(m[3]) }))
      .sort((a, b) => a.p - b.p || a.first - b.first);
    for (let i = 1; i < ranges.length; i++) {
      const [a, b] = [ranges[i - 1]!, ranges[i]!];
      if (a.p === b.p) assert.ok(b.first > a.last, `overlap in partition ${a.p}: ${JSON.stringify([a, b])}`);
    }
    const stopped = await second.kill('SIGTERM');
    assert.equal(stopped.code, 0, `clean shutdown:\n${second.tail()}`);
    const committed = await bus.withAdmin((admin) =>
      admin.committedOffsets(`${bus.config.topicPrefix}archive`, [bus.topicName('chatMessages')]),
    );
    // Partitions that no stream hashed to have nothing committed (-1).
    const total = committed.reduce((n, c) => n + Math.max(0, Number(c.offset)), 0);
    assert.equal(total, events.length, 'offsets committed to the end after the last file');
  });
});
