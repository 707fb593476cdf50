import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatEvent } from '../../schemas/generated/events.ts';
import { chatEvents, messageIdOf } from '../../tests/support/chat-events.ts';
import { testBus } from '../../tests/support/bus.ts';
import { endpoints, serverEnv } from '../../tests/support/endpoints.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { ServiceProcess } from '../../tests/support/process.ts';
import { TcpProxy } from '../../tests/support/tcp-proxy.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { Cassandra, type Row } from '../../platform/cassandra.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { minuteOf } from './plan.ts';
import { rebuild } from '../../platform/store/rebuild.ts';
import { loadArchiverConfig } from './config.ts';
import { chatArchive } from './definition.ts';

const TTL = 30 * 86_400;
const HOUR = 3_600_000;

const cassandra = (contactPoints = endpoints().cassandraContactPoints): Cassandra =>
  new Cassandra({
    CASSANDRA_CONTACT_POINTS: contactPoints,
    CASSANDRA_LOCAL_DC: 'datacenter1',
    CASSANDRA_REQUEST_TIMEOUT_MS: 5000,
  });

/**
 * A chat history over six minutes that crosses an hour boundary (two buckets), in three streams,
 * with deletions and moderation in between.
 */
function history(n: number): { events: ChatEvent[]; messages: ChatEvent[]; deleted: Set<string> } {
  const start = Math.floor(Date.now() / HOUR) * HOUR - HOUR - 3 * 60_000;
  const streams = ['s-a', 's-b', 's-c'];
  const events: ChatEvent[] = [];
  const messages: ChatEvent[] = [];
  const deleted = new Set<string>();
  for (let i = 0; i < n; i++) {
    const at = start + Math.floor((i * 6 * 60_000) / n);
    const streamId = streams[i % 3]!;
    const m = chatEvents.sent(streamId, { userId: `u${i % 37}`, content: `message ${i} ${'é'.repeat(i % 40)}`, at });
    events.push(m);
    messages.push(m);
    if (i % 50 === 7) {
      deleted.add(messageIdOf(m));
      events.push(
        chatEvents.event(streamId, { type: 'ChatMessageDeleted', messageId: messageIdOf(m), actorId: 'mod' }, at + 5),
      );
    }
    if (i % 400 === 11) {
      events.push(
        chatEvents.event(streamId, { type: 'UserBanned', userId: `u${i % 37}`, actorId: 'mod', reason: null }, at + 1),
      );
      events.push(chatEvents.event(streamId, { type: 'ModeratorAdded', userId: `m${i}`, actorId: 'owner' }, at + 2));
    }
    if (i % 400 === 211)
      events.push(chatEvents.event(streamId, { type: 'UserUnbanned', userId: 'u11', actorId: 'mod' }, at + 1));
  }
  return { events, messages, deleted };
}

interface Tables {
  messages: Row[];
  buckets: Row[];
  moderation: Row[];
  stats: Row[];
}

async function tableRows(db: Cassandra, ks: string): Promise<Tables> {
  const read = async (cql: string, key: (r: Row) => string): Promise<Row[]> =>
    (await db.execute('dump', cql)).sort((a, b) => key(a).localeCompare(key(b)));
  return {
    messages: await read(
      `SELECT stream_id, bucket, message_id, user_id, username, badges, content, color, deleted_by, WRITETIME(user_id) AS at
       FROM ${ks}.chat_messages`,
      (r) => String(r.message_id),
    ),
    buckets: await read(
      `SELECT stream_id, bucket FROM ${ks}.chat_buckets`,
      (r) => `${String(r.stream_id)}/${String(r.bucket)}`,
    ),
    moderation: await read(
      `SELECT stream_id, user_id, banned, WRITETIME(banned) AS banned_at, moderator, WRITETIME(moderator) AS moderator_at,
         timeout_until, WRITETIME(timeout_until) AS timeout_at FROM ${ks}.chat_moderation`,
      (r) => `${String(r.stream_id)}/${String(r.user_id)}`,
    ),
    stats: await read(
      `SELECT stream_id, day, minute, messages, chatters FROM ${ks}.chat_stats_by_minute`,
      (r) => `${String(r.stream_id)}/${(r.minute as Date).toISOString()}`,
    ),
  };
}

const count = async (db: Cassandra, ks: string): Promise<number> =>
  Number((await db.execute('count', `SELECT COUNT(*) AS n FROM ${ks}.chat_messages`))[0]!.n);

describe('chat archiver (real Kafka, real Cassandra)', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let db: Cassandra;
  const keyspaces: string[] = [];
  const children: ServiceProcess[] = [];
  const data = history(2400);

  const archiverProcess = (ks: string, label: string, env: Record<string, string> = {}): ServiceProcess => {
    const e = endpoints();
    const p = new ServiceProcess(label, 'sinks/chat-archiver/main.ts', {
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints.join(','),
      LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
      CHAT_KEYSPACE: ks,
      // Small rounds, one batch at a time: the kill lands between many uncommitted writes.
      CHAT_ARCHIVER_MAX_RECORDS: '20',
      CHAT_ARCHIVER_CONCURRENCY: '1',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    });
    children.push(p);
    return p;
  };

  before(async () => {
    bus = testBus('chatarch');
    await bus.init(['chatMessages']);
    producer = bus.producer();
    await producer.connect();
    db = cassandra();
    await db.connect();
  });

  after(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await producer.disconnect();
    for (const ks of keyspaces) await db.ddl(`DROP KEYSPACE IF EXISTS ${ks}`);
    await db.shutdown();
  });

  it('SIGKILLed mid-stream and restarted, it has every message exactly once, deletions and absolute stats', async () => {
    const ks = uniqueName('chatlive');
    keyspaces.push(ks);
    await producer.publish(bus.topic('chatMessages'), data.events);

    const first = archiverProcess(ks, 'archiver-1');
    await first.waitForLog('started', (l) => l.component === 'chat-archiver' && l.msg === 'started');
    const written = await waitFor(
      'some rows written',
      async () => ((await count(db, ks)) >= 300 ? count(db, ks) : undefined),
      60_000,
    );
    await first.kill('SIGKILL');
    const atKill = await count(db, ks);
    const committed = (
      await bus.withAdmin((admin) =>
        admin.committedOffsets(`${bus.config.topicPrefix}chat-archiver`, [bus.topic('chatMessages').name]),
      )
    ).reduce((n, p) => n + Math.max(0, p.offset), 0);
    assert.ok(atKill < data.messages.length, `killed before the end (${atKill} of ${data.messages.length} rows)`);
    assert.ok(
      committed < data.events.length,
      `records left uncommitted at the kill: ${committed} of ${data.events.length}`,
    );
    assert.ok(written >= 300);

    const second = archiverProcess(ks, 'archiver-2');
    await waitFor('every message archived', async () => (await count(db, ks)) === data.messages.length, 90_000);
    // Rows are keyed by message id: the redelivered records overwrote, they did not add.
    const rows = (await tableRows(db, ks)).messages;
    assert.equal(rows.length, data.messages.length);
    assert.equal(new Set(rows.map((r) => r.message_id)).size, data.messages.length, 'each message exactly once');
    const byId = new Map(rows.map((r) => [r.message_id as string, r]));
    for (const m of data.messages) {
      const row = byId.get(messageIdOf(m));
      assert.ok(row, `message ${messageIdOf(m)} archived`);
      if (data.deleted.has(messageIdOf(m))) {
        assert.equal(row.content, null);
        assert.equal(row.deleted_by, 'mod');
      } else {
        assert.equal(row.content, (m.payload as { content: string }).content);
        assert.equal(row.at, m.occurredAt * 1000, 'write time is the event time');
      }
    }
    const buckets = new Set(rows.map((r) => r.bucket));
    assert.equal(buckets.size, 2, 'the hour boundary splits each stream into two partitions');

    await waitFor('stats of the last minute', async () => (await tableRows(db, ks)).stats.length >= 18);
    const expected = new Map<string, { messages: number; chatters: Set<string> }>();
    for (const m of data.messages) {
      const key = `${m.streamId}/${new Date(minuteOf(m.occurredAt)).toISOString()}`;
      const e = expected.get(key) ?? { messages: 0, chatters: new Set<string>() };
      e.messages++;
      e.chatters.add((m.payload as { userId: string }).userId);
      expected.set(key, e);
    }
    const stats = (await tableRows(db, ks)).stats;
    assert.deepEqual(
      Object.fromEntries(
        stats.map((s) => [`${String(s.stream_id)}/${(s.minute as Date).toISOString()}`, [s.messages, s.chatters]]),
      ),
      Object.fromEntries([...expected].map(([k, v]) => [k, [v.messages, v.chatters.size]])),
      'per-minute messages and distinct chatters, absolute despite the redelivery',
    );

    const ttl = await db.execute(
      'ttl',
      `SELECT TTL(user_id) AS ttl FROM ${ks}.chat_messages WHERE stream_id = ? AND bucket = ? AND message_id = ?`,
      [rows[0]!.stream_id, rows[0]!.bucket, rows[0]!.message_id],
    );
    const age = (Date.now() - (rows[0]!.at as number) / 1000) / 1000;
    assert.ok(
      Math.abs((ttl[0]!.ttl as number) - (TTL - age)) < 120,
      'expires 30 days after the message, not after the write',
    );

    const stopped = await second.kill('SIGTERM');
    assert.equal(stopped.code, 0, `clean shutdown:\n${second.tail()}`);
  });

  it('a replay from the topic rebuilds tables equal to what the live archiver wrote', async () => {
    const live = keyspaces[0];
    assert.ok(live, 'the live keyspace from the previous test');
    const rebuilt = uniqueName('chatreplay');
    keyspaces.push(rebuilt);
    // `npm run replay -- chat --into <rebuilt>`: the live archiver's definition, writer and settings.
    const store = chatArchive(
      loadArchiverConfig({
        ...serverEnv(bus.config.topicPrefix),
        CHAT_KEYSPACE: live,
        CHAT_ARCHIVER_MAX_RECORDS: '500',
      }),
      { bus, db },
    );
    await rebuild({ bus, log: bus.log }, store, { mode: 'swap', into: rebuilt }, { deadlineMs: 120_000 });
    const [a, b] = [await tableRows(db, live), await tableRows(db, rebuilt)];
    assert.equal(a.messages.length, data.messages.length);
    assert.ok(a.moderation.length > 0 && a.stats.length > 0 && a.buckets.length === 6);
    assert.deepEqual(b, a);
  });

  it('while Cassandra is unreachable it commits nothing and retries; when it is back it catches up without loss', async () => {
    const ks = uniqueName('chatdown');
    keyspaces.push(ks);
    const proxy = TcpProxy.toUrl(`http://${endpoints().cassandraContactPoints[0]!}`, { up: true });
    const archiver = archiverProcess(ks, 'archiver-down', {
      CASSANDRA_CONTACT_POINTS: new URL(await proxy.listen()).host,
      CHAT_ARCHIVER_GROUP_ID: 'chat-archiver-down',
    });
    const topic = bus.topic('chatMessages');
    const groupId = `${bus.config.topicPrefix}chat-archiver-down`;
    const admin = bus.admin();
    const committed = async (): Promise<number> =>
      (await admin.committedOffsets(groupId, [topic.name])).reduce((n, x) => n + Math.max(0, x.offset), 0);
    const end = (await admin.topicOffsets(topic.name)).reduce((n, p) => n + p.high, 0);
    try {
      await archiver.waitForLog('started', (l) => l.component === 'chat-archiver' && l.msg === 'started');
      await waitFor('caught up with what is on the topic', async () => (await committed()) === end, 90_000);
      const baseline = await count(db, ks);
      proxy.setUp(false);
      const events = Array.from({ length: 30 }, (_, i) =>
        chatEvents.sent(`down${i % 2}`, { userId: `u${i}`, content: `while down ${i}` }),
      );
      await producer.publish(topic, events);

      await archiver.waitForLog('a second retry', (l) => l.msg === 'retriable failure' && l.attempt === 2);
      assert.equal(await committed(), end, 'nothing committed while Cassandra is down');

      proxy.setUp(true);
      await waitFor('the 30 messages archived', async () => (await count(db, ks)) === baseline + events.length, 60_000);
      await waitFor('offsets committed to the end', async () => (await committed()) === end + events.length);
      assert.equal((await archiver.kill('SIGTERM')).code, 0, archiver.tail());
    } finally {
      await admin.close();
      await proxy.close();
    }
  });
});
