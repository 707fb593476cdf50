import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { testBus } from './support/bus.ts';
import { endpoints, serverEnv } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { ServiceProcess } from './support/process.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitFor } from './support/wait.ts';
import { Cassandra } from '../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../platform/kafka/groups.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import { mapLimit } from '../platform/concurrency.ts';
import { ensureFollowsSchema } from '../domain/follows/schema.ts';
import type { DerivedStore, StoreWriter } from '../platform/store/definition.ts';
import { rebuild } from '../platform/store/rebuild.ts';
import { loadNotificationsSinkConfig } from '../sinks/notifications/config.ts';
import { notificationsStore } from '../sinks/notifications/definition.ts';
import { mintToken } from '../platform/auth/tokens.ts';

const FOLLOWERS = 3000;

/**
 * The go-live path end to end: notifier processes (one SIGKILLed mid fan-out, one that takes the
 * fan-out over), the notifications sink, and a push gateway process with a real WebSocket client.
 */
describe('notifier, notifications sink and push (real Kafka, real Cassandra)', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let db: Cassandra;
  let store: DerivedStore;
  let sink: StoreWriter;
  const children: ServiceProcess[] = [];
  const fks = uniqueName('nfollows');
  const nks = uniqueName('nnotes');
  const jks = uniqueName('njobs');
  const rebuilt = uniqueName('nnotesr');
  const secret = randomBytes(32).toString('base64url');
  const sinkGroup = () => `${bus.config.topicPrefix}notifications-sink`;

  const env = (extra: Record<string, string>): Record<string, string> => {
    const e = endpoints();
    return {
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints.join(','),
      LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...extra,
    };
  };
  const notifier = (label: string): ServiceProcess => {
    const p = new ServiceProcess(
      label,
      'processors/notifier/main.ts',
      env({
        FOLLOWS_KEYSPACE: fks,
        NOTIFIER_KEYSPACE: jks,
        NOTIFIER_INLINE_MAX: '100',
        NOTIFIER_PAGE_SIZE: '50',
        NOTIFIER_LEASE_MS: '1500',
        NOTIFIER_RECOVER_EVERY_MS: '300',
        // A short queue in front of the sink: the fan-out runs long enough to be killed in the middle.
        NOTIFIER_MAX_SINK_LAG: '100',
      }),
    );
    children.push(p);
    return p;
  };
  const job = async () =>
    (await db.execute('job', `SELECT sent, done, owner FROM ${jks}.fanout_jobs WHERE shard = 0`))[0] as
      { sent: number; done: boolean; owner: string } | undefined;
  const seedFollowers = async (streamerId: string, ids: string[]): Promise<void> => {
    await mapLimit(ids, 64, async (id) => {
      await db.execute(
        'seed',
        `INSERT INTO ${fks}.followers_by_streamer (streamer_id, follower_id, followed_at) VALUES (?, ?, ?)`,
        [streamerId, id, new Date()],
      );
    });
  };

  before(async () => {
    bus = testBus('notifier');
    await bus.init(['streamLifecycle', 'viewerCounts', 'notifications']);
    producer = bus.producer();
    await producer.connect();
    db = new Cassandra({
      CASSANDRA_CONTACT_POINTS: endpoints().cassandraContactPoints,
      CASSANDRA_LOCAL_DC: 'datacenter1',
      CASSANDRA_REQUEST_TIMEOUT_MS: 10_000,
    });
    await db.connect();
    const topo = { replicationFactor: 1, localDc: 'datacenter1' };
    await ensureFollowsSchema(db, fks, topo);
    // The notifications sink's own store definition, on this spec's topics and keyspace.
    store = notificationsStore(
      loadNotificationsSinkConfig({
        ...serverEnv(bus.config.topicPrefix),
        NOTIFICATIONS_KEYSPACE: nks,
        NOTIFICATIONS_SINK_MAX_RECORDS: '200',
        NOTIFICATIONS_SINK_CONCURRENCY: '32',
        NOTIFICATIONS_SINK_COMMIT_MS: '100',
      }),
      { bus, db },
    );
    await store.prepareLive();
    sink = store.writer(nks, { groupId: sinkGroup(), live: true });
    await sink.start();
  });

  after(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await sink?.stop();
    await producer?.disconnect();
    for (const ks of [fks, nks, jks, rebuilt]) await db.ddl(`DROP KEYSPACE IF EXISTS ${ks}`);
    await db.shutdown();
  });

  it('a notifier SIGKILLed mid fan-out: after a restart every follower has exactly one notification', async () => {
    const followers = Array.from({ length: FOLLOWERS }, (_, i) => `f${String(i).padStart(5, '0')}`);
    await seedFollowers('big', followers);
    const first = notifier('notifier-1');
    await first.waitForLog('started', (l) => l.component === 'notifier' && l.msg === 'started');
    const streamId = `stream_${randomBytes(6).toString('hex')}`;
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(streamId, { streamerId: 'big', streamerName: 'Big' }),
      streamEvents.wentLive(streamId),
    ]);
    await waitFor('the fan-out under way', async () => ((await job())?.sent ?? 0) >= 600, 60_000);
    await first.kill('SIGKILL');
    const atKill = await job();
    assert.ok(atKill && !atKill.done && atKill.sent < FOLLOWERS, `killed mid fan-out: ${JSON.stringify(atKill)}`);

    const second = notifier('notifier-2');
    await second.waitForLog('resumed', (l) => l.msg === 'resuming a large fan-out', 60_000);
    await waitFor('the fan-out done', async () => (await job())?.done === true, 120_000);
    await waitForGroupToReachEnd(bus, sinkGroup(), [bus.topicName('notifications')], { deadlineMs: 60_000 });

    const perFollower = await mapLimit(followers, 32, async (f) =>
      Number(
        (await db.execute('count', `SELECT COUNT(*) AS n FROM ${nks}.notifications_by_user WHERE user_id = ?`, [f]))[0]!
          .n,
      ),
    );
    const wrong = followers.filter((_, i) => perFollower[i] !== 1);
    assert.deepEqual(wrong, [], 'every follower has exactly one notification');
    const row = (
      await db.execute(
        'row',
        `SELECT streamer_name, stream_id, kind FROM ${nks}.notifications_by_user WHERE user_id = ?`,
        [followers[1234]!],
      )
    )[0]!;
    assert.deepEqual(row, { streamer_name: 'Big', stream_id: streamId, kind: 'STREAM_WENT_LIVE' });
  });

  it('pushes a go-live to every connected session of each follower through the push gateway', async () => {
    const gateway = new ServiceProcess(
      'push',
      'gateways/notifications/main.ts',
      env({ NOTIFY_PORT: '0', API_JWT_SECRET: secret }),
    );
    children.push(gateway);
    const port = (await gateway.waitForLog('listening', (l) => l.msg === 'push gateway listening')).port as number;
    const key = new TextEncoder().encode(secret);
    const token = await mintToken(
      key,
      { issuer: 'live-platform', audience: 'live-api' },
      { userId: 'fan', username: 'fan' },
      600,
    );

    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/notifications`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    assert.equal(refused, 401, 'no token, no socket');
    const ticketRes = await fetch(`http://127.0.0.1:${port}/api/v1/notifications/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const { ticket } = (await ticketRes.json()) as { ticket: string };
    const frames: Array<Array<Record<string, unknown>>> = [[], []];
    const open = (i: number, opts: { ticket?: string; token?: string }) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(
          `ws://127.0.0.1:${port}/notifications${opts.ticket ? `?ticket=${opts.ticket}` : ''}`,
          opts.token ? { headers: { authorization: `Bearer ${opts.token}` } } : {},
        );
        ws.on('message', (data) => {
          const f = JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
          frames[i]!.push(f);
          if (f.type === 'ready') resolve(ws);
        });
        ws.on('error', reject);
      });
    const sockets = [await open(0, { ticket }), await open(1, { token })];

    await seedFollowers('small', ['fan', 'other']);
    const streamId = `stream_${randomBytes(6).toString('hex')}`;
    const startedAt = Date.now();
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(streamId, { streamerId: 'small', streamerName: 'Small', title: 'hello' }),
      streamEvents.wentLive(streamId, startedAt),
    ]);
    for (const i of [0, 1]) {
      const got = await waitFor(
        `session ${i} got the go-live`,
        () =>
          frames[i]!.find((f) => f.type === 'notification') as { notification: Record<string, unknown> } | undefined,
      );
      assert.equal(got.notification.stream_id, streamId);
      assert.deepEqual(got.notification.streamer, { user_id: 'small', username: 'Small' });
      assert.equal(got.notification.title, 'hello');
    }

    // The publisher reconnects: ingest announces the same broadcast again (same startedAt).
    const running = children.find((c) => c.label === 'notifier-2' && c.running)!;
    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.wentLive(streamId, startedAt)]);
    await running.waitForLog(
      'the resumed broadcast skipped',
      (l) => l.msg === 'broadcast resumed; its go-live was announced already' && l.jobId === `${streamId}@${startedAt}`,
    );
    for (const i of [0, 1]) assert.equal(frames[i]!.filter((f) => f.type === 'notification').length, 1);
    for (const ws of sockets) ws.close();
    assert.equal((await gateway.kill('SIGTERM')).code, 0, gateway.tail());
  });

  it('push gateway: a ticket opens one socket; sockets are capped per address and per user; tickets per address are rate-limited', async () => {
    const gateway = new ServiceProcess(
      'push-limits',
      'gateways/notifications/main.ts',
      env({
        NOTIFY_PORT: '0',
        API_JWT_SECRET: secret,
        NOTIFY_MAX_CONNECTIONS_PER_ADDRESS: '3',
        NOTIFY_MAX_CONNECTIONS_PER_USER: '2',
        NOTIFY_TICKETS_PER_ADDRESS: '3',
        NOTIFY_TICKET_WINDOW_S: '600',
      }),
    );
    children.push(gateway);
    const port = (await gateway.waitForLog('listening', (l) => l.msg === 'push gateway listening')).port as number;
    const key = new TextEncoder().encode(secret);
    const bearer = (userId: string): Promise<string> =>
      mintToken(key, { issuer: 'live-platform', audience: 'live-api' }, { userId, username: userId }, 600);
    const ticketFor = (userId: string): Promise<Response> =>
      bearer(userId).then((token) =>
        fetch(`http://127.0.0.1:${port}/api/v1/notifications/tickets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    /** The socket once it is ready, or the HTTP status and error code it was refused with. */
    const connect = (opts: { ticket?: string; token?: string }) =>
      new Promise<{ ws: WebSocket } | { status: number; code: string }>((resolve, reject) => {
        const ws = new WebSocket(
          `ws://127.0.0.1:${port}/notifications${opts.ticket ? `?ticket=${opts.ticket}` : ''}`,
          opts.token ? { headers: { authorization: `Bearer ${opts.token}` } } : {},
        );
        ws.on('message', (data) => {
          if ((JSON.parse((data as Buffer).toString('utf8')) as { type: string }).type === 'ready') resolve({ ws });
        });
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              code: (JSON.parse(body) as { error: { code: string } }).error.code,
            }),
          );
        });
        ws.on('error', reject);
      });
    const open: WebSocket[] = [];
    /** What a refused attempt answered; an attempt that opened is kept (to close at the end) and reads 'opened'. */
    const refusal = (
      r: { ws: WebSocket } | { status: number; code: string },
    ): { status: number; code: string } | 'opened' => {
      if (!('ws' in r)) return r;
      open.push(r.ws);
      return 'opened';
    };
    const opened = (r: { ws: WebSocket } | { status: number; code: string }): WebSocket => {
      assert.ok('ws' in r, `opened, got ${JSON.stringify(r)}`);
      open.push(r.ws);
      return r.ws;
    };
    try {
      const { ticket } = (await (await ticketFor('fan')).json()) as { ticket: string };
      opened(await connect({ ticket }));
      assert.deepEqual(
        refusal(await connect({ ticket })),
        { status: 401, code: 'unauthorized' },
        'a ticket opens one socket',
      );

      opened(await connect({ token: await bearer('fan') }));
      assert.deepEqual(refusal(await connect({ token: await bearer('fan') })), {
        status: 503,
        code: 'too_many_connections',
      });
      opened(await connect({ token: await bearer('other') }));
      assert.deepEqual(
        refusal(await connect({ token: await bearer('third') })),
        { status: 503, code: 'too_many_connections' },
        'three sockets from this address already',
      );
      open.shift()!.close();
      await waitFor('the closed socket gave its slots back', async () => {
        const r = await connect({ token: await bearer('fan') });
        if ('ws' in r) return opened(r);
        return false;
      });

      const more = [await ticketFor('fan'), await ticketFor('fan'), await ticketFor('fan')];
      assert.deepEqual(
        more.map((r) => r.status),
        [200, 200, 429],
        'three tickets per address per window',
      );
      assert.equal(((await more[2]!.json()) as { error: { code: string } }).error.code, 'rate_limited');
      const retryAfter = Number(more[2]!.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 600, `Retry-After ${more[2]!.headers.get('retry-after')}`);
    } finally {
      for (const ws of open) ws.terminate();
      await gateway.kill('SIGKILL');
    }
  });

  it('a replay of live.notifications rebuilds tables equal to what the live sink wrote', async () => {
    await waitForGroupToReachEnd(bus, sinkGroup(), [bus.topicName('notifications')], { deadlineMs: 60_000 });
    await rebuild({ bus, log: bus.log }, store, { mode: 'swap', into: rebuilt }, { deadlineMs: 120_000 });
    const [live, again] = [await store.dump(nks), await store.dump(rebuilt)];
    assert.equal(live.size, FOLLOWERS + 2);
    assert.deepEqual(again, live);
  });
});
