import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FollowEvent, NotificationCreated } from '../schemas/generated/events.ts';
import { testBus } from './support/bus.ts';
import { endpoints, serverEnv } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitFor } from './support/wait.ts';
import { Cassandra } from '../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../platform/kafka/groups.ts';
import { createElasticsearch, type Elasticsearch } from '../platform/elasticsearch/client.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import { REDRIVE_HEADERS } from '../platform/kafka/dead-letter.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import type { RawRecord } from '../platform/kafka/reader.ts';
import { notificationsFor } from '../domain/notifications/fanout.ts';
import { FollowGraph } from '../domain/follows/graph.ts';
import { planEdges } from '../sinks/follows/plan.ts';
import { loadFollowsSinkConfig } from '../sinks/follows/config.ts';
import { followGraph } from '../sinks/follows/definition.ts';
import { FollowGraphWriter } from '../sinks/follows/store.ts';
import { Inbox } from '../domain/notifications/inbox.ts';
import { loadNotificationsSinkConfig } from '../sinks/notifications/config.ts';
import { notificationsStore } from '../sinks/notifications/definition.ts';
import type { StoreWriter } from '../platform/store/definition.ts';
import { rebuild } from '../platform/store/rebuild.ts';
import { mintToken } from '../platform/auth/tokens.ts';
import { apiGateway, type ApiGateway } from '../gateways/api/gateway.ts';

const TOKEN = { issuer: 'live-platform', audience: 'live-api' };
const TTL = 30 * 86_400;
type Body = Record<string, unknown> & { error?: { code: string } };

describe('follows and notifications on the HTTP API (real Kafka, real Cassandra)', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let es: Elasticsearch;
  let db: Cassandra;
  let api: ApiGateway;
  let base: string;
  let followsSink: StoreWriter;
  let notificationsSink: StoreWriter;
  const fks = uniqueName('follows');
  const nks = uniqueName('notes');
  const rebuilt = uniqueName('followsr');
  const key = randomBytes(32);
  const tokens: Record<string, string> = {};
  const aliceStream = `stream_${randomBytes(6).toString('hex')}`;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body };
  };
  const followEvents = async (): Promise<number> => {
    const ends = await bus.withAdmin((admin) => admin.topicOffsets(bus.topicName('userFollows')));
    return ends.reduce((n, p) => n + p.high, 0);
  };

  before(async () => {
    bus = testBus('users');
    await bus.init(['streamLifecycle', 'viewerCounts', 'userFollows', 'notifications']);
    producer = bus.producer();
    await producer.connect();
    db = new Cassandra({
      CASSANDRA_CONTACT_POINTS: endpoints().cassandraContactPoints,
      CASSANDRA_LOCAL_DC: 'datacenter1',
      CASSANDRA_REQUEST_TIMEOUT_MS: 10_000,
    });
    await db.connect();
    // The sinks' own store definitions, on this spec's topics and keyspaces.
    const env = { ...serverEnv(bus.config.topicPrefix), FOLLOWS_KEYSPACE: fks, NOTIFICATIONS_KEYSPACE: nks };
    const follows = followGraph(
      loadFollowsSinkConfig({ ...env, FOLLOWS_SINK_MAX_RECORDS: '500', FOLLOWS_SINK_CONCURRENCY: '8' }),
      { bus, db },
    );
    const notifications = notificationsStore(
      loadNotificationsSinkConfig({
        ...env,
        NOTIFICATIONS_SINK_MAX_RECORDS: '500',
        NOTIFICATIONS_SINK_COMMIT_MS: '200',
      }),
      { bus, db },
    );
    await follows.prepareLive();
    await notifications.prepareLive();
    followsSink = follows.writer(fks, { groupId: follows.liveGroupId, live: true });
    notificationsSink = notifications.writer(nks, { groupId: notifications.liveGroupId, live: true });
    await followsSink.start();
    await notificationsSink.start();
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(aliceStream, { streamerId: 'alice', streamerName: 'Alice' }),
      streamEvents.wentLive(aliceStream),
      streamEvents.created(`stream_${randomBytes(6).toString('hex')}`, { streamerId: 'carol', streamerName: 'Carol' }),
    ]);
    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    api = apiGateway({
      bus,
      es,
      signingKey: key,
      log: bus.log,
      metrics: bus.metrics,
      users: { graph: new FollowGraph(db, fks), inbox: new Inbox(db, nks, TTL), pendingMs: 30_000 },
      settings: {
        host: '127.0.0.1',
        port: 0,
        maxBodyBytes: 16 * 1024,
        registryGroupId: uniqueName('users-registry'),
        registryCatchUpMs: 30_000,
        readYourWritesMs: 5000,
        discoveryAlias: uniqueName('unused'),
        retryAfterS: 5,
        token: TOKEN,
        links: {
          publicBaseUrl: 'https://example.test',
          cdnBaseUrl: 'https://cdn.example.test',
          wsBaseUrl: 'wss://chat.example.test',
          ingest: { rtmp: 'rtmp://ingest.example.test/live', rtmps: null, webrtc: null },
          whepBaseUrl: null,
        },
      },
    });
    for (const c of api.components) await c.start();
    base = `http://127.0.0.1:${api.server.port}`;
    for (const u of ['alice', 'bob', 'dave', 'erin'])
      tokens[u] = await mintToken(key, TOKEN, { userId: u, username: u }, 600);
  });

  after(async () => {
    for (const c of [...(api?.components ?? [])].reverse()) await c.stop();
    await followsSink?.stop();
    await notificationsSink?.stop();
    await producer?.disconnect();
    await es?.close();
    for (const ks of [fks, nks, rebuilt]) await db.ddl(`DROP KEYSPACE IF EXISTS ${ks}`);
    await db.shutdown();
  });

  it('refuses unauthenticated calls, following yourself, unknown users, double follows and stray unfollows, with no event', async () => {
    assert.equal((await call('POST', '/api/v1/users/alice/follow')).status, 401);
    assert.equal((await call('DELETE', '/api/v1/users/alice/follow')).status, 401);
    assert.equal((await call('GET', '/api/v1/me/following')).status, 401);
    assert.equal((await call('GET', '/api/v1/me/notifications')).status, 401);
    assert.equal((await call('POST', '/api/v1/users/alice/follow', 'not.a.token')).status, 401);
    const self = await call('POST', '/api/v1/users/alice/follow', tokens.alice);
    assert.deepEqual([self.status, self.body.error?.code], [400, 'cannot_follow_self']);
    const unknown = await call('POST', '/api/v1/users/nobody/follow', tokens.bob);
    assert.deepEqual([unknown.status, unknown.body.error?.code], [404, 'user_not_found']);
    const stray = await call('DELETE', '/api/v1/users/alice/follow', tokens.bob);
    assert.deepEqual([stray.status, stray.body.error?.code], [409, 'not_following']);
    assert.equal((await call('GET', '/api/v1/users/nobody')).status, 404);
    assert.equal((await call('GET', '/api/v1/users/alice/followers?limit=0')).status, 400);
    assert.equal((await call('GET', '/api/v1/users/alice/followers?cursor=%%%')).status, 400);
    assert.equal(await followEvents(), 0, 'no event for any refused call');

    assert.equal((await call('POST', '/api/v1/users/alice/follow', tokens.erin)).status, 200);
    const double = await call('POST', '/api/v1/users/alice/follow', tokens.erin);
    assert.deepEqual([double.status, double.body.error?.code], [409, 'already_following']);
    assert.equal(await followEvents(), 1, 'one event for two follows of the same pair');
  });

  it('follow, unfollow, follow: the graph, counts and who is live, each change one event keyed by the streamer', async () => {
    assert.equal((await call('POST', '/api/v1/users/alice/follow', tokens.bob)).status, 200);
    assert.equal((await call('DELETE', '/api/v1/users/alice/follow', tokens.bob)).status, 200);
    assert.equal((await call('POST', '/api/v1/users/alice/follow', tokens.bob)).status, 200);
    assert.equal((await call('POST', '/api/v1/users/carol/follow', tokens.bob)).status, 200);
    assert.equal((await call('POST', '/api/v1/users/alice/follow', tokens.dave)).status, 200);
    assert.equal((await call('DELETE', '/api/v1/users/alice/follow', tokens.dave)).status, 200);
    assert.equal(await followEvents(), 7);

    const following = await waitFor('bob follows alice and carol', async () => {
      const r = await call('GET', '/api/v1/me/following', tokens.bob);
      return (r.body.following as unknown[]).length === 2 ? r.body : undefined;
    });
    const list = following.following as Array<{
      user_id: string;
      username: string;
      live: { stream_id: string } | null;
    }>;
    assert.deepEqual(
      list.map((f) => [f.user_id, f.username, f.live?.stream_id ?? null]),
      [
        ['alice', 'Alice', aliceStream],
        ['carol', 'Carol', null],
      ],
    );
    assert.deepEqual(following.live_now, ['alice']);

    const alice = await waitFor('alice has two followers', async () => {
      const r = await call('GET', '/api/v1/users/alice');
      return r.body.followers === 2 ? r.body : undefined;
    });
    assert.deepEqual(
      { ...alice, live: (alice.live as { stream_id: string }).stream_id },
      { user_id: 'alice', username: 'Alice', followers: 2, following: 0, live: aliceStream, is_following: null },
    );
    // The follow button's question, whoever many the caller follows.
    assert.equal((await call('GET', '/api/v1/users/alice', tokens.bob)).body.is_following, true);
    assert.equal((await call('GET', '/api/v1/users/alice', tokens.dave)).body.is_following, false);
    const bob = await call('GET', '/api/v1/users/bob');
    assert.deepEqual([bob.body.followers, bob.body.following], [0, 2]);

    const page1 = await call('GET', '/api/v1/users/alice/followers?limit=1');
    const page2 = await call('GET', `/api/v1/users/alice/followers?limit=1&cursor=${String(page1.body.next_cursor)}`);
    const ids = [
      ...(page1.body.followers as Array<{ user_id: string }>),
      ...(page2.body.followers as Array<{ user_id: string }>),
    ];
    assert.deepEqual(
      ids.map((f) => f.user_id),
      ['bob', 'erin'],
    );
    assert.equal(page2.body.next_cursor, null);
  });

  it('an old follow redelivered after a newer unfollow does not bring the edge back (latest per pair wins)', async () => {
    const graph = new FollowGraph(db, fks);
    const writer = new FollowGraphWriter(db, fks, 4);
    assert.equal(await graph.isFollowing('dave', 'alice'), false);
    // dave's Followed was at offset n, his Unfollowed after it: deliver the Followed once more.
    const records: Array<{ event: FollowEvent; version: string; partition: number; message: RawRecord }> = [];
    const reading = await bus.read(
      bus.topicName('userFollows'),
      { from: 'earliest', follow: true },
      async (message) => {
        records.push({
          event: await bus.topic('userFollows').codec.decode(message.value),
          version: message.offset,
          partition: message.partition,
          message,
        });
      },
    );
    await waitFor('all seven follow events read', () => records.length === 7);
    await reading.stop();
    const daveFollowed = records.find(
      (r) => r.event.payload.followerId === 'dave' && r.event.payload.type === 'Followed',
    )!;
    const { edges, users } = planEdges([daveFollowed]);
    await writer.apply(edges, users);
    assert.equal(await graph.isFollowing('dave', 'alice'), false);
    assert.deepEqual(await graph.counts('alice'), { followers: 2, following: 0 });

    // The same Followed sent back to the topic by `npm run dlq -- redrive`, at a new, higher
    // offset: the live sink must still rank it where it first was, before the Unfollowed.
    await producer.sendRaw(bus.topicName('userFollows'), [
      {
        key: daveFollowed.message.key,
        value: daveFollowed.message.value,
        headers: {
          [REDRIVE_HEADERS.from]: `${bus.topicName('userFollows')}.dlq/0@0`,
          [REDRIVE_HEADERS.origin]: `${daveFollowed.partition}@${daveFollowed.message.offset}`,
        },
      },
    ]);
    await waitForGroupToReachEnd(bus, `${bus.config.topicPrefix}follows-sink`, [bus.topicName('userFollows')], {
      deadlineMs: 60_000,
    });
    assert.equal(await graph.isFollowing('dave', 'alice'), false, 'a re-driven old follow does not undo the unfollow');
    assert.deepEqual(await graph.counts('alice'), { followers: 2, following: 0 });
  });

  it('a replay of live.user.follows rebuilds a graph equal to the live one', async () => {
    await waitForGroupToReachEnd(bus, `${bus.config.topicPrefix}follows-sink`, [bus.topicName('userFollows')], {
      deadlineMs: 60_000,
    });
    // `npm run replay -- follows --into <rebuilt>`, in rounds of two records.
    const store = followGraph(
      loadFollowsSinkConfig({
        ...serverEnv(bus.config.topicPrefix),
        FOLLOWS_KEYSPACE: fks,
        FOLLOWS_SINK_MAX_RECORDS: '2',
        FOLLOWS_SINK_CONCURRENCY: '4',
      }),
      { bus, db },
    );
    await rebuild({ bus, log: bus.log }, store, { mode: 'swap', into: rebuilt }, { deadlineMs: 60_000 });
    const [live, again] = [await store.dump(fks), await store.dump(rebuilt)];
    assert.equal([...live.keys()].filter((k) => k.startsWith('followers_by_streamer/')).length, 3);
    assert.deepEqual(again, live);
  });

  it('notifications: newest first, paged, marked read; bad ids refused', async () => {
    const base0 = Date.now() - 60_000;
    const events: NotificationCreated[] = [0, 1, 2].flatMap((i) =>
      notificationsFor(
        { streamId: `s${i}`, startedAt: base0 + i * 1000, streamerId: 'alice', streamerName: 'Alice', title: `t${i}` },
        ['bob'],
        Date.now(),
      ),
    );
    await producer.publish(bus.topic('notifications'), events);
    const first = await waitFor('three notifications stored', async () => {
      const r = await call('GET', '/api/v1/me/notifications?limit=2', tokens.bob);
      return r.body.next_cursor ? r.body : undefined;
    });
    const items = first.notifications as Array<{
      notification_id: string;
      title: string;
      read: boolean;
      created_at: string;
    }>;
    assert.deepEqual(
      items.map((n) => n.title),
      ['t2', 't1'],
    );
    assert.equal(items[0]!.created_at, new Date(base0 + 2000).toISOString());
    const second = await call(
      'GET',
      `/api/v1/me/notifications?limit=2&cursor=${String(first.next_cursor)}`,
      tokens.bob,
    );
    assert.deepEqual(
      (second.body.notifications as Array<{ title: string }>).map((n) => n.title),
      ['t0'],
    );
    assert.equal(second.body.next_cursor, null);

    const marked = await call('POST', '/api/v1/me/notifications/read', tokens.bob, {
      ids: [items[0]!.notification_id, randomUUID()],
    });
    assert.equal(marked.status, 400, 'a non-timeuuid id is refused');
    const ok = await call('POST', '/api/v1/me/notifications/read', tokens.bob, { ids: [items[0]!.notification_id] });
    assert.deepEqual([ok.status, ok.body.marked], [200, 1]);
    const none = await call('POST', '/api/v1/me/notifications/read', tokens.dave, { ids: [items[1]!.notification_id] });
    assert.equal(none.body.marked, 0, "someone else's notification is not touched");
    const after = await call('GET', '/api/v1/me/notifications', tokens.bob);
    assert.deepEqual(
      (after.body.notifications as Array<{ read: boolean }>).map((n) => n.read),
      [true, false, false],
    );
    // A redelivered notification does not make a read one unread.
    await producer.publish(bus.topic('notifications'), [{ ...events[2]!, occurredAt: Date.now() }]);
    await waitForGroupToReachEnd(bus, `${bus.config.topicPrefix}notifications-sink`, [bus.topicName('notifications')], {
      deadlineMs: 30_000,
    });
    const still = await call('GET', '/api/v1/me/notifications', tokens.bob);
    assert.equal((still.body.notifications as Array<{ read: boolean }>)[0]!.read, true);
    assert.equal((still.body.notifications as unknown[]).length, 3);
  });
});
