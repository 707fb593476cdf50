import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { StreamLifecycleEvent, VodRecorded } from '../schemas/generated/events.ts';
import { testBus } from './support/bus.ts';
import { endpoints } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { streamEvents } from './support/stream-events.ts';
import { readTopicUntil } from './support/topic.ts';
import { waitFor } from './support/wait.ts';
import { fuzzMethods, plainGet } from './support/http-fuzz.ts';
import { createElasticsearch, type Elasticsearch } from '../platform/elasticsearch/client.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import type { Component } from '../platform/service.ts';
import { DiscoveryIndexer } from '../processors/discovery-indexer/indexer.ts';
import { discoveryIndex } from '../domain/discovery/index-definition.ts';
import { deleteIndices, ensureAliasedIndex } from '../platform/elasticsearch/indices.ts';
import { mintToken, type Principal } from '../platform/auth/tokens.ts';
import { waitForGroupToReachEnd } from '../platform/kafka/groups.ts';
import { Cassandra } from '../platform/cassandra.ts';
import { FollowGraph } from '../domain/follows/graph.ts';
import { Inbox } from '../domain/notifications/inbox.ts';
import { apiGateway, type ApiGateway, type ApiSettings } from '../gateways/api/gateway.ts';
import type {
  categoriesResponse,
  playbackResponse,
  searchResponse,
  startedResponse,
  streamResponse,
  videoResponse,
  videosResponse,
} from '../gateways/api/protocol.ts';

const TOKEN = { issuer: 'live-platform', audience: 'live-api' };
const LINKS = {
  publicBaseUrl: 'https://example.test',
  cdnBaseUrl: 'https://cdn.example.test/',
  wsBaseUrl: 'wss://chat.example.test',
  ingest: { rtmp: 'rtmp://ingest.example.test/live', rtmps: null, webrtc: null },
  whepBaseUrl: null,
};

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}
type Started = ReturnType<typeof startedResponse>;
type StreamBody = ReturnType<typeof streamResponse>;
type Playback = ReturnType<typeof playbackResponse>;
type SearchBody = ReturnType<typeof searchResponse>;
type Categories = ReturnType<typeof categoriesResponse>;
type VideoBody = ReturnType<typeof videoResponse>;
type VideosBody = ReturnType<typeof videosResponse>;
interface ErrorBody {
  error: { code: string; message: string; fields: Record<string, string> };
}

describe('HTTP API against real Kafka and Elasticsearch', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let es: Elasticsearch;
  let alias: string;
  let indexer: DiscoveryIndexer;
  let api: ApiGateway;
  let base: string;
  const key = randomBytes(32);
  const tokens: Record<'alice' | 'bob', string> = { alice: '', bob: '' };

  const settings = (overrides: Partial<ApiSettings> = {}): ApiSettings => ({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 16 * 1024,
    registryGroupId: uniqueName('api-registry'),
    registryCatchUpMs: 30_000,
    readYourWritesMs: 10_000,
    discoveryAlias: alias,
    retryAfterS: 7,
    token: TOKEN,
    links: LINKS,
    ...overrides,
  });

  const call = async <T = ErrorBody>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string>; at?: string } = {},
  ): Promise<Answer<T>> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${opts.at ?? base}${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
  };

  const start = async (who: 'alice' | 'bob', body: Record<string, unknown>): Promise<Answer<Started>> => {
    const res = await call<Started>('POST', '/api/v1/streams/start', { token: tokens[who], body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res;
  };

  const search = <T = SearchBody>(query: string) => call<T>('GET', `/api/v1/streams/search?${query}`);

  before(async () => {
    bus = testBus('api');
    await bus.init(['streamLifecycle', 'viewerCounts']);
    producer = bus.producer();
    await producer.connect();
    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    alias = uniqueName('streams');
    await ensureAliasedIndex(es, alias, discoveryIndex({ shards: 1, replicas: 0 }));
    indexer = new DiscoveryIndexer(bus, es, { groupId: uniqueName('indexer'), target: alias, requireAlias: true });
    await indexer.start();
    api = apiGateway({ bus, es, signingKey: key, settings: settings(), log: bus.log, metrics: bus.metrics });
    for (const c of api.components) await c.start();
    base = `http://127.0.0.1:${api.server.port}`;
    const alice: Principal = { userId: 'user_alice', username: 'darksouls_pro' };
    const bob: Principal = { userId: 'user_bob', username: 'bob' };
    tokens.alice = await mintToken(key, TOKEN, alice, 600);
    tokens.bob = await mintToken(key, TOKEN, bob, 600);
  });

  after(async () => {
    for (const c of [...(api?.components ?? [])].reverse()) await c.stop();
    await indexer?.stop();
    await producer?.disconnect();
    await deleteIndices(es, [`${alias}-v1`]);
    await es.close();
  });

  describe('stream lifecycle', () => {
    it('POST /streams/start: 201 with the key shown once, ingest and playback URLs; only the key hash is on the topic', async () => {
      const res = await start('alice', {
        title: 'Playing Dark Souls - First Playthrough!',
        category: 'Gaming',
        tags: ['darksouls', 'firstplaythrough', 'soulslike'],
        latency_mode: 'low',
        enable_recording: true,
        enable_chat: true,
      });
      const b = res.body;
      assert.match(b.stream_id, /^stream_[0-9a-f]{20}$/);
      assert.match(b.stream_key, /^live_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(b.ingest_urls, LINKS.ingest);
      assert.equal(b.playback_url, `https://example.test/streams/${b.stream_id}`);
      assert.equal(b.status, 'ready');
      assert.equal(b.latency_mode, 'low');
      assert.ok(Math.abs(Date.parse(b.created_at!) - Date.now()) < 60_000);
      assert.equal(res.headers.get('cache-control'), 'no-store');

      const hash = createHash('sha256').update(b.stream_key).digest('hex');
      const records = await readTopicUntil(bus, bus.topicName('streamLifecycle'), (all) =>
        all.some((r) => r.key === b.stream_id),
      );
      const raw = records.find((r) => r.key === b.stream_id)!;
      assert.ok(!raw.value!.includes(Buffer.from(b.stream_key)), 'the key itself never reaches Kafka');
      const event = await bus.topic('streamLifecycle').codec.decode(raw.value);
      assert.equal(event.payload.type, 'StreamCreated');
      assert.equal(event.payload.type === 'StreamCreated' && event.payload.streamKeyHash, hash);
      assert.equal(event.payload.type === 'StreamCreated' && event.payload.streamerName, 'darksouls_pro');
      assert.equal(api.registry.byStreamKeyHash(hash)?.streamId, b.stream_id, 'ingest can find the stream by key hash');
      // Later reads never show the key again.
      const playback = await call<Playback>('GET', `/api/v1/streams/${b.stream_id}/playback`);
      assert.ok(!JSON.stringify(playback.body).includes(b.stream_key));
    });

    it('reads its own writes: playback right after start and after a change, with no waiting', async () => {
      const { body: created } = await start('alice', { title: 'Fresh stream', category: 'Art', enable_chat: false });
      const first = await call<Playback>('GET', `/api/v1/streams/${created.stream_id}/playback`);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, {
        stream_id: created.stream_id,
        status: 'ready',
        title: 'Fresh stream',
        category: 'Art',
        tags: [],
        latency_mode: 'standard',
        streamer: { user_id: 'user_alice', username: 'darksouls_pro', avatar: null },
        viewer_count: 0,
        peak_viewer_count: 0,
        viewers_by_quality: {},
        buffering_ratio: 0,
        started_at: null,
        ended_at: null,
        playback_urls: {
          hls: `https://cdn.example.test/hls/${created.stream_id}/master.m3u8`,
          dvr: null,
          dash: null,
          webrtc: null,
        },
        qualities: [],
        thumbnail: null,
        media_error: null,
        chat_url: null,
      });
      const patched = await call<StreamBody>('PATCH', `/api/v1/streams/${created.stream_id}`, {
        token: tokens.alice,
        body: { title: 'Renamed', tags: ['Chill'] },
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.title, 'Renamed');
      assert.deepEqual(patched.body.tags, ['chill']);
      const after = await call<Playback>('GET', `/api/v1/streams/${created.stream_id}/playback`);
      assert.equal(after.body.title, 'Renamed');
      assert.deepEqual(after.body.tags, ['chill']);
      assert.equal(after.body.category, 'Art', 'fields not sent are unchanged');
    });

    it('playback carries what ingest and the viewer counter publish: live status, start time, viewer count, chat URL', async () => {
      const { body: created } = await start('alice', { title: 'Going live', category: 'Gaming' });
      const startedAt = Date.now() - 5000;
      await producer.publish(bus.topic('streamLifecycle'), [streamEvents.wentLive(created.stream_id, startedAt)]);
      await producer.publish(bus.topic('viewerCounts'), [streamEvents.viewers(created.stream_id, 1523, 1610)]);
      const playback = await waitFor('live with viewers', async () => {
        const res = await call<Playback>('GET', `/api/v1/streams/${created.stream_id}/playback`);
        return res.body.status === 'live' && res.body.viewer_count === 1523 && res.body;
      });
      assert.equal(playback.started_at, new Date(startedAt).toISOString());
      assert.equal(playback.chat_url, `wss://chat.example.test/streams/${created.stream_id}/chat`);
    });

    it('PATCH: owner only (403), unknown id 404, token required (401)', async () => {
      const { body: created } = await start('alice', { title: 'Mine', category: 'Gaming' });
      const path = `/api/v1/streams/${created.stream_id}`;
      const stranger = await call('PATCH', path, { token: tokens.bob, body: { title: 'Hijacked' } });
      assert.equal(stranger.status, 403);
      assert.equal(stranger.body.error.code, 'not_stream_owner');
      assert.equal(
        (await call('PATCH', '/api/v1/streams/stream_nope', { token: tokens.alice, body: { title: 'x' } })).status,
        404,
      );
      assert.equal((await call('PATCH', path, { body: { title: 'x' } })).status, 401);
      assert.equal((await call<Playback>('GET', `${path}/playback`)).body.title, 'Mine');
    });

    it('POST /streams/:id/end: owner ends it (200), again is 409, others 403, unknown 404, and an ended stream cannot change', async () => {
      const { body: created } = await start('alice', { title: 'Short one', category: 'Gaming' });
      const end = `/api/v1/streams/${created.stream_id}/end`;
      assert.equal((await call('POST', end, { token: tokens.bob })).status, 403);
      const ended = await call<StreamBody>('POST', end, { token: tokens.alice });
      assert.equal(ended.status, 200);
      assert.equal(ended.body.status, 'ended');
      assert.ok(ended.body.ended_at);
      const again = await call('POST', end, { token: tokens.alice });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'stream_ended');
      assert.equal(
        (await call('PATCH', `/api/v1/streams/${created.stream_id}`, { token: tokens.alice, body: { title: 'x' } }))
          .status,
        409,
      );
      assert.equal((await call('POST', '/api/v1/streams/stream_unknown/end', { token: tokens.alice })).status, 404);
      assert.equal((await call('GET', '/api/v1/streams/stream_unknown/playback')).status, 404);
      assert.equal((await call<Playback>('GET', `/api/v1/streams/${created.stream_id}/playback`)).body.status, 'ended');
    });

    it('an operator (admin token) takes a stream down: StreamEnded(ADMIN) naming the operator', async () => {
      const { body: created } = await start('alice', { title: 'Against the rules', category: 'Gaming' });
      const end = `/api/v1/streams/${created.stream_id}/end`;
      const ops = await mintToken(key, TOKEN, { userId: 'ops_1', username: 'ops', admin: true }, 600);
      const taken = await call<StreamBody>('POST', end, { token: ops });
      assert.equal(taken.status, 200);
      assert.equal(taken.body.status, 'ended');
      // Created, then ended: both on the topic.
      const records = await readTopicUntil(
        bus,
        bus.topicName('streamLifecycle'),
        (all) => all.filter((r) => r.key === created.stream_id).length >= 2,
      );
      const events = await Promise.all(
        records
          .filter((r) => r.key === created.stream_id)
          .map((r) => bus.topic('streamLifecycle').codec.decode(r.value)),
      );
      assert.deepEqual(events.at(-1)!.payload, { type: 'StreamEnded', reason: 'ADMIN', endedBy: 'ops_1' });
      assert.equal((await call('POST', end, { token: tokens.alice })).status, 409, 'the streamer cannot undo it');
    });

    it('two ends of one stream at once: exactly one 200 and one 409', async () => {
      const { body: created } = await start('alice', { title: 'Double click', category: 'Gaming' });
      const end = `/api/v1/streams/${created.stream_id}/end`;
      const statuses = (
        await Promise.all([call('POST', end, { token: tokens.alice }), call('POST', end, { token: tokens.alice })])
      ).map((r) => r.status);
      assert.deepEqual(statuses.sort(), [200, 409]);
    });
  });

  describe('authentication', () => {
    it('401 with WWW-Authenticate for a missing, malformed, foreign-signed, expired or unsigned token', async () => {
      const body = { title: 't', category: 'c' };
      const foreign = await mintToken(randomBytes(32), TOKEN, { userId: 'user_alice', username: 'x' }, 600);
      const expired = await mintToken(key, TOKEN, { userId: 'user_alice', username: 'x' }, -10);
      const otherAudience = await mintToken(
        key,
        { ...TOKEN, audience: 'someone-else' },
        { userId: 'user_alice', username: 'x' },
        600,
      );
      const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({ sub: 'user_alice', name: 'x', iss: TOKEN.issuer, aud: TOKEN.audience, exp: 9e9 }),
      ).toString('base64url')}.`;
      for (const authorization of [
        undefined,
        'Basic abc',
        `Bearer ${foreign}`,
        `Bearer ${expired}`,
        `Bearer ${otherAudience}`,
        `Bearer ${unsigned}`,
      ]) {
        const res = await call('POST', '/api/v1/streams/start', {
          body,
          headers: authorization ? { authorization } : {},
        });
        assert.equal(res.status, 401, `${authorization}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'unauthorized');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
      assert.equal(
        (await call('GET', '/api/v1/streams/search', { headers: { authorization: `Bearer ${expired}` } })).status,
        401,
      );
    });
  });

  describe('bad input', () => {
    it('400 names every bad field with its own message', async () => {
      const res = await call('POST', '/api/v1/streams/start', {
        token: tokens.alice,
        body: {
          title: '',
          category: 'c'.repeat(51),
          tags: Array.from({ length: 11 }, (_, i) => `t${i}`),
          latency_mode: 'instant',
          enable_recording: 'yes',
          stream_key: 'mine',
        },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'invalid_request');
      assert.deepEqual(Object.keys(res.body.error.fields).sort(), [
        'category',
        'enable_recording',
        'latency_mode',
        'stream_key',
        'tags',
        'title',
      ]);
      assert.equal(res.body.error.fields.stream_key, 'unknown field');
      const longTag = await call('POST', '/api/v1/streams/start', {
        token: tokens.alice,
        body: { title: 't'.repeat(201), category: 'c', tags: ['ok', 'x'.repeat(26)] },
      });
      assert.deepEqual(Object.keys(longTag.body.error.fields).sort(), ['tags[1]', 'title']);
    });

    it('a body that is not JSON is 400, not JSON-typed is 415, missing is 400, too big is 413', async () => {
      const post = (raw: string | undefined, type = 'application/json') =>
        call('POST', '/api/v1/streams/start', {
          token: tokens.alice,
          ...(raw !== undefined && { raw }),
          headers: { 'content-type': type },
        });
      const broken = await post('{"title": ');
      assert.deepEqual([broken.status, broken.body.error.code], [400, 'invalid_json']);
      assert.equal((await post('title=x', 'application/x-www-form-urlencoded')).status, 415);
      const empty = await post(undefined);
      assert.deepEqual([empty.status, Object.keys(empty.body.error.fields)], [400, ['(body)']]);
      const big = await post(JSON.stringify({ title: 'x', category: 'y', pad: 'z'.repeat(20_000) }));
      assert.equal(big.status, 413);
      assert.equal(big.body.error.code, 'payload_too_large');
      // Without a declared length the limit holds too: counted as the chunks arrive.
      const chunked = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode(' '.repeat(1000)));
          c.close();
        },
      });
      const streamed = await fetch(`${base}/api/v1/streams/start`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: chunked,
        duplex: 'half',
      } as RequestInit);
      assert.equal(streamed.status, 413);
    });

    it('unknown routes are 404; bad search parameters are 400 per parameter', async () => {
      assert.equal((await call('GET', '/api/v1/nothing')).status, 404);
      assert.equal((await call('DELETE', '/api/v1/streams/stream_x')).status, 404);
      const res = await search<ErrorBody>('limit=1000&min_viewers=-1&status=live,paused&sort=new');
      assert.equal(res.status, 400);
      assert.deepEqual(Object.keys(res.body.error.fields).sort(), ['limit', 'min_viewers', 'sort', 'status']);
      assert.deepEqual(Object.keys((await search<ErrorBody>('q=a&q=b')).body.error.fields), ['q']);
    });
  });

  describe('discovery search', () => {
    const word = `w${randomBytes(4).toString('hex')}`;
    const ids: Record<string, string> = {};

    before(async () => {
      // Streams created through the API, then taken live and counted the way ingest and the counter will.
      for (const [name, body, who] of [
        [
          'souls',
          { title: `Playing Dark Souls - First Playthrough! ${word}`, category: 'Gaming', tags: ['soulslike'] },
          'alice',
        ],
        ['elden', { title: `Elden Ring speedrun ${word}`, category: 'Gaming', tags: ['souls'] }, 'bob'],
        ['lofi', { title: `Dark and cozy lofi beats ${word}`, category: 'Music', tags: ['chill'] }, 'bob'],
        ['paint', { title: `Painting a dark forest ${word}`, category: 'Art', tags: [] }, 'bob'],
        ['quiet', { title: `Just chatting ${word}`, category: 'gaming', tags: [] }, 'bob'],
      ] as const) {
        ids[name] = (await start(who, body)).body.stream_id;
      }
      await producer.publish(
        bus.topic('streamLifecycle'),
        ['souls', 'elden', 'lofi', 'paint'].map((n) => streamEvents.wentLive(ids[n]!)),
      );
      await producer.publish(bus.topic('viewerCounts'), [
        streamEvents.viewers(ids.souls!, 1523),
        streamEvents.viewers(ids.elden!, 4000),
        streamEvents.viewers(ids.lofi!, 90),
        streamEvents.viewers(ids.paint!, 300),
      ]);
      await waitFor('all five indexed with counts', async () => {
        const res = await search(`q=${word}&status=live,ready`);
        return (
          res.body.total_results === 5 &&
          res.body.streams[0]?.viewer_count === 4000 &&
          res.body.streams.filter((s) => s.status === 'live').length === 4
        );
      });
    });

    const idsOf = (res: Answer<SearchBody>): string[] => res.body.streams.map((s) => s.stream_id);

    it('is typo tolerant: "dark sols" finds Dark Souls, and a half-typed "dark sou" too', async () => {
      for (const q of ['dark sols', 'drak souls', 'dark sou', 'DARK SOULS']) {
        const res = await search(`q=${encodeURIComponent(`${word} ${q}`)}`);
        assert.equal(res.status, 200);
        assert.deepEqual(idsOf(res), [ids.souls], q);
      }
    });

    it('searches streamer names and tags as text too', async () => {
      assert.deepEqual(idsOf(await search(`q=${encodeURIComponent(`darksouls_pro ${word}`)}`)), [ids.souls]);
      assert.deepEqual(idsOf(await search(`q=${encodeURIComponent(`soulslike ${word}`)}`)), [ids.souls]);
    });

    it('orders live first by viewers, then the rest; the result shape carries streamer and count', async () => {
      const res = await search(`q=${word}`);
      assert.deepEqual(idsOf(res), [ids.elden, ids.souls, ids.paint, ids.lofi, ids.quiet]);
      assert.equal(res.body.total_results, 5);
      assert.equal(res.body.next_cursor, null);
      const top = res.body.streams[0]!;
      assert.deepEqual(top.streamer, { user_id: 'user_bob', username: 'bob', avatar: null });
      assert.equal(top.status, 'live');
      assert.equal(top.viewer_count, 4000);
      assert.equal(top.category, 'Gaming');
      assert.deepEqual(top.tags, ['souls']);
      assert.ok(top.started_at);
    });

    it('filters by category (any case), min_viewers and status', async () => {
      assert.deepEqual(idsOf(await search(`q=${word}&category=GAMING`)), [ids.elden, ids.souls, ids.quiet]);
      assert.deepEqual(idsOf(await search(`q=${word}&min_viewers=300`)), [ids.elden, ids.souls, ids.paint]);
      assert.deepEqual(idsOf(await search(`q=${word}&status=ready`)), [ids.quiet]);
      assert.deepEqual(
        idsOf(await search(`q=${encodeURIComponent(`dark ${word}`)}&category=music&min_viewers=50&status=live`)),
        [ids.lofi],
      );
    });

    it('ended streams leave default results but can be asked for', async () => {
      await call('POST', `/api/v1/streams/${ids.quiet}/end`, { token: tokens.bob });
      await waitFor('the end indexed', async () => idsOf(await search(`q=${word}&status=ended`)).includes(ids.quiet!));
      assert.ok(!idsOf(await search(`q=${word}`)).includes(ids.quiet!));
    });

    it('user text is only ever matched, never parsed as query syntax', async () => {
      for (const q of [
        `status:ended OR ${word}`,
        '*',
        '*:*',
        `title:* ${word}`,
        '") OR 1=1 --',
        '\\',
        '{"match_all":{}}',
      ]) {
        const res = await search(`q=${encodeURIComponent(q)}`);
        assert.equal(res.status, 200, q);
        assert.ok(res.body.total_results <= 1, `${q} matched ${res.body.total_results}`);
      }
    });

    it('pages with search_after: every stream exactly once, in the same order as one big page', async () => {
      const tag = `p${randomBytes(4).toString('hex')}`;
      const pageIds = Array.from({ length: 23 }, (_, i) => `stream_${tag}_${String(i).padStart(2, '0')}`);
      const events: StreamLifecycleEvent[] = pageIds.flatMap((id, i) => [
        streamEvents.created(id, { title: `Marathon ${tag} part ${i}` }),
        ...(i % 2 ? [streamEvents.wentLive(id)] : []),
      ]);
      await producer.publish(bus.topic('streamLifecycle'), events);
      // Many ties on viewer count, so order rests on the tiebreakers.
      await producer.publish(
        bus.topic('viewerCounts'),
        pageIds.map((id, i) => streamEvents.viewers(id, (i % 3) * 10)),
      );
      await waitFor('all indexed', async () => {
        const res = await search(`q=${tag}&limit=100`);
        return res.body.total_results === 23 && res.body.streams.filter((s) => s.viewer_count > 0).length === 15;
      });
      const whole = idsOf(await search(`q=${tag}&limit=100`));
      const paged: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Answer<SearchBody> = await search(`q=${tag}&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200);
        assert.equal(res.body.total_results, 23);
        paged.push(...idsOf(res));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 5);
      assert.deepEqual(paged, whole);
      assert.equal(new Set(paged).size, 23);
      assert.deepEqual([...paged].sort(), [...pageIds].sort());
    });

    it('pages read one snapshot: viewer counts that reorder the streams between pages neither repeat nor skip one', async () => {
      const tag = `q${randomBytes(4).toString('hex')}`;
      const ids = Array.from({ length: 12 }, (_, i) => `stream_${tag}_${String(i).padStart(2, '0')}`);
      await producer.publish(
        bus.topic('streamLifecycle'),
        ids.flatMap((id) => [streamEvents.created(id, { title: `Reshuffle ${tag}` }), streamEvents.wentLive(id)]),
      );
      const counts = async (viewers: (i: number) => number) => {
        await producer.publish(
          bus.topic('viewerCounts'),
          ids.map((id, i) => streamEvents.viewers(id, viewers(i))),
        );
        const want = ids.map((_, i) => viewers(i)).sort((a, b) => b - a);
        await waitFor('the counts indexed', async () => {
          const res = await search(`q=${tag}&limit=100`);
          return JSON.stringify(res.body.streams.map((x) => x.viewer_count)) === JSON.stringify(want);
        });
      };
      await counts((i) => 100 * (i + 1));
      const before = idsOf(await search(`q=${tag}&limit=100`));
      const first = await search(`q=${tag}&limit=4`);
      // Between the pages the order turns over: the last streams now lead.
      await counts((i) => 10_000 - 100 * (i + 1));
      const paged = idsOf(first);
      let cursor = first.body.next_cursor;
      while (cursor) {
        const res: Answer<SearchBody> = await search(`q=${tag}&limit=4&cursor=${cursor}`);
        assert.equal(res.status, 200);
        paged.push(...idsOf(res));
        cursor = res.body.next_cursor;
      }
      assert.deepEqual(paged, before, 'the pages are the list as it stood at the first page');
      // A new search sees the new order; a cursor whose snapshot is gone still gets its page.
      assert.deepEqual(idsOf(await search(`q=${tag}&limit=100`)), [...before].reverse());
      const stale = JSON.parse(Buffer.from(first.body.next_cursor!, 'base64url').toString()) as { p: string };
      const gone = Buffer.from(
        JSON.stringify({ ...stale, p: Buffer.from('no such snapshot').toString('base64url') }),
      ).toString('base64url');
      const resumed = await search(`q=${tag}&limit=4&cursor=${gone}`);
      assert.equal(resumed.status, 200, 'a fresh snapshot, after the same sort values');
      assert.ok(idsOf(resumed).every((id) => ids.includes(id)));
    });

    it('a cursor is bound to its filters; a forged one is 400', async () => {
      const first = await search(`q=${word}&limit=2`);
      const cursor = first.body.next_cursor!;
      assert.ok(cursor);
      const other = await search<ErrorBody>(`q=${word}&limit=2&category=gaming&cursor=${cursor}`);
      assert.equal(other.status, 400);
      assert.deepEqual(Object.keys(other.body.error.fields), ['cursor']);
      assert.equal((await search(`q=${word}&cursor=not-a-cursor`)).status, 400);
      const forged = Buffer.from(JSON.stringify({ a: [0, 1, 2, { script: 'x' }], f: 'x' })).toString('base64url');
      assert.equal((await search(`q=${word}&cursor=${forged}`)).status, 400);
      assert.equal((await search(`q=${word}&limit=2&cursor=${cursor}`)).status, 200);
    });

    it('GET /categories ranks categories by live viewers', async () => {
      const res = await call<Categories>('GET', '/api/v1/categories');
      assert.equal(res.status, 200);
      const byName = new Map<string, { viewer_count: number; live_streams: number }>(
        res.body.categories.map((c: { name: string; viewer_count: number; live_streams: number }) => [c.name, c]),
      );
      // Other tests here add live Gaming streams too; Art and Music belong to this one alone.
      assert.ok(byName.get('Gaming')!.viewer_count >= 5523);
      assert.deepEqual(byName.get('Art'), { name: 'Art', viewer_count: 300, live_streams: 1 });
      assert.deepEqual(byName.get('Music'), { name: 'Music', viewer_count: 90, live_streams: 1 });
      const counts = res.body.categories.map((c: { viewer_count: number }) => c.viewer_count);
      assert.deepEqual(
        counts,
        [...counts].sort((a: number, b: number) => b - a),
      );
      assert.equal((await call<Categories>('GET', '/api/v1/categories?limit=1')).body.categories.length, 1);
    });
  });

  describe('write rate limits and the bounded registry (issue #28)', () => {
    let limited: ApiGateway;
    let db: Cassandra;
    let at: string;
    const startPath = '/api/v1/streams/start';
    const word = `w${randomBytes(4).toString('hex')}`;
    // Chat and recording off: the discovery document does not carry either (gateways/api/archive.ts).
    const body = (title: string) => ({
      title: `${title} ${word}`,
      category: 'Gaming',
      enable_chat: false,
      enable_recording: false,
    });
    const tokenFor = (name: string) =>
      mintToken(key, TOKEN, { userId: uniqueName(`user_${name}`), username: name }, 600);
    const refusal = (res: Answer<ErrorBody>, what: string) => {
      assert.equal(res.status, 429, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'rate_limited', what);
      assert.ok(res.body.error.message, what);
      const retry = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 3600, `${what}: Retry-After ${retry}`);
    };

    before(async () => {
      // Follows and notifications wired so their writes are served; a refused write never reaches
      // its handler, so this client is never asked anything here.
      db = new Cassandra({
        CASSANDRA_CONTACT_POINTS: endpoints().cassandraContactPoints,
        CASSANDRA_LOCAL_DC: 'datacenter1',
        CASSANDRA_REQUEST_TIMEOUT_MS: 5000,
      });
      limited = apiGateway({
        bus,
        es,
        signingKey: key,
        log: bus.log,
        metrics: bus.metrics,
        users: {
          graph: new FollowGraph(db, 'unused_follows'),
          inbox: new Inbox(db, 'unused_inbox', 60),
          pendingMs: 1000,
        },
        settings: settings({
          writeLimits: {
            perUser: { points: 10, durationS: 3600 },
            perAddress: { points: 1000, durationS: 3600 },
            startsPerUser: { points: 3, durationS: 3600 },
            startsPerAddress: { points: 1000, durationS: 3600 },
          },
          endedStreamsCached: 2,
        }),
      });
      for (const c of limited.components) await c.start();
      at = `http://127.0.0.1:${limited.server.port}`;
    });
    after(async () => {
      for (const c of [...(limited?.components ?? [])].reverse()) await c.stop();
      await db?.shutdown();
    });

    it('start/end churn is refused with 429 rate_limited and Retry-After; another user and reads are not', async () => {
      const carol = await tokenFor('carol');
      const made: string[] = [];
      let refused: Answer<ErrorBody> | undefined;
      for (let i = 0; i < 200 && !refused; i++) {
        const started = await call<Started & ErrorBody>('POST', startPath, {
          at,
          token: carol,
          body: body(`churn ${i}`),
        });
        if (started.status !== 201) refused = started;
        else {
          made.push(started.body.stream_id);
          const ended = await call('POST', `/api/v1/streams/${started.body.stream_id}/end`, { at, token: carol });
          if (ended.status !== 200) refused = ended;
        }
      }
      assert.ok(refused, `never refused: ${made.length} streams started and ended`);
      refusal(refused, 'the fourth start');
      assert.equal(made.length, 3, 'three starts per user are allowed, the fourth is refused');
      refusal(await call('POST', startPath, { at, token: carol, body: body('again') }), 'a start after the refusal');

      const dave = await tokenFor('dave');
      const other = await call<Started>('POST', startPath, { at, token: dave, body: body('unaffected') });
      assert.equal(other.status, 201, 'another user is unaffected');
      assert.equal(
        (await call('POST', `/api/v1/streams/${other.body.stream_id}/end`, { at, token: dave })).status,
        200,
      );

      for (let i = 0; i < 30; i++) {
        const read = await call<Playback>('GET', `/api/v1/streams/${made[2]}/playback`, { at, token: carol });
        assert.equal(read.status, 200, 'reads are not limited');
      }
      assert.equal(
        (await call('GET', `/api/v1/streams/search?q=${word}&status=ended`, { at, token: carol })).status,
        200,
      );
      assert.equal((await call('GET', '/api/v1/categories', { at, token: carol })).status, 200);
    });

    it('every write shares the per-user budget: update, end, follow, unfollow, notifications read, start', async () => {
      const erin = await tokenFor('erin');
      const created = await call<Started>('POST', startPath, { at, token: erin, body: body('budget') });
      assert.equal(created.status, 201);
      const path = `/api/v1/streams/${created.body.stream_id}`;
      for (let n = 1; n < 10; n++) {
        const res = await call('PATCH', path, { at, token: erin, body: { title: `budget ${n} ${word}` } });
        assert.equal(res.status, 200, `write ${n + 1} of 10`);
      }
      const notification = '00000000-0000-1000-8000-000000000000';
      for (const [method, p, b] of [
        ['PATCH', path, { title: 'one too many' }],
        ['POST', `${path}/end`, undefined],
        ['POST', '/api/v1/users/someone/follow', undefined],
        ['DELETE', '/api/v1/users/someone/follow', undefined],
        ['POST', '/api/v1/me/notifications/read', { ids: [notification] }],
        ['POST', startPath, body('one more')],
      ] as const) {
        refusal(await call(method, p, { at, token: erin, ...(b && { body: b }) }), `${method} ${p}`);
      }
      assert.equal((await call<Playback>('GET', `${path}/playback`, { at })).body.title, `budget 9 ${word}`);
    });

    it('per address: callers behind one address share its budget; X-Forwarded-For counts only from a trusted proxy', async () => {
      const gateways = [
        apiGateway({
          bus,
          es,
          signingKey: key,
          log: bus.log,
          metrics: bus.metrics,
          settings: settings({ writeLimits: { perAddress: { points: 3, durationS: 3600 } } }),
        }),
        apiGateway({
          bus,
          es,
          signingKey: key,
          log: bus.log,
          metrics: bus.metrics,
          settings: settings({
            writeLimits: { perAddress: { points: 3, durationS: 3600 }, trustedProxies: ['127.0.0.1'] },
          }),
        }),
      ];
      for (const g of gateways) await g.server.start();
      try {
        const [direct, proxied] = gateways.map((g) => `http://127.0.0.1:${g.server.port}`) as [string, string];
        const end = '/api/v1/streams/stream_unknown/end';
        const post = async (base: string, forwardedFor: string, token?: string) =>
          call('POST', end, {
            at: base,
            ...(token && { token }),
            headers: { 'x-forwarded-for': forwardedFor },
          });
        // Not behind a trusted proxy: the header is the caller's own word, and changes nothing.
        for (let i = 0; i < 3; i++)
          assert.equal((await post(direct, `203.0.113.${i}`, await tokenFor(`u${i}`))).status, 404);
        refusal(await post(direct, '198.51.100.7', await tokenFor('fresh')), 'a fourth user from the same address');
        refusal(await post(direct, '198.51.100.8'), 'an anonymous write from the same address');
        // Behind a trusted proxy: each forwarded client has its own budget.
        for (let i = 0; i < 6; i++)
          assert.equal((await post(proxied, `203.0.113.${i}`, await tokenFor(`p${i}`))).status, 404);
        for (let i = 0; i < 3; i++)
          assert.equal((await post(proxied, `198.51.100.9, 203.0.113.200`, await tokenFor(`q${i}`))).status, 404);
        refusal(await post(proxied, '198.51.100.9, 203.0.113.200', await tokenFor('q3')), 'the same forwarded client');
        assert.equal((await call('GET', '/api/v1/categories', { at: direct })).status, 200, 'reads are not limited');
      } finally {
        for (const g of gateways) await g.server.stop();
      }
    });

    it('keeps only the latest ended streams in memory; an older one answers as before, from the discovery index', async () => {
      const frank = await tokenFor('frank');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await call<Started>('POST', startPath, { at, token: frank, body: body(`kept ${i}`) });
        assert.equal(s.status, 201);
        ids.push(s.body.stream_id);
        assert.equal((await call('POST', `/api/v1/streams/${s.body.stream_id}/end`, { at, token: frank })).status, 200);
      }
      const oldest = ids[0]!;
      assert.equal(limited.registry.get(oldest), undefined, 'the oldest ended stream left memory');
      assert.ok(limited.registry.endedInMemory <= 2, `${limited.registry.endedInMemory} ended streams in memory`);
      // The discovery index holds every stream; wait until it has this one's end.
      const fromIndex = await waitFor('the end indexed', async () => {
        const res = await call<Playback>('GET', `/api/v1/streams/${oldest}/playback`, { at });
        return res.status === 200 && res.body;
      });
      const fromMemory = await call<Playback>('GET', `/api/v1/streams/${oldest}/playback`);
      assert.equal(fromMemory.body.status, 'ended');
      assert.deepEqual(fromIndex, fromMemory.body, 'the same answer as an instance that still holds it');
      const patch = await call('PATCH', `/api/v1/streams/${oldest}`, { at, token: frank, body: { title: 'x' } });
      assert.deepEqual([patch.status, patch.body.error.code], [409, 'stream_ended']);
      const again = await call('POST', `/api/v1/streams/${oldest}/end`, { at, token: frank });
      assert.deepEqual([again.status, again.body.error.code], [409, 'stream_ended']);
      const stranger = await call('PATCH', `/api/v1/streams/${oldest}`, {
        at,
        token: await tokenFor('x'),
        body: { title: 'x' },
      });
      assert.deepEqual([stranger.status, stranger.body.error.code], [403, 'not_stream_owner']);
      assert.equal((await call('GET', '/api/v1/streams/stream_unknown/playback', { at })).status, 404);
    });
  });

  describe('the video library (issue #26)', () => {
    const HOUR = 3_600_000;
    const t0 = Date.UTC(2026, 10, 2, 18, 0, 0);
    const vera: Principal = { userId: uniqueName('user_vera'), username: 'vera' };
    let veraToken: string;
    const ids: string[] = [];
    const vodOf = (streamId: string, startedAt: number): VodRecorded => ({
      eventId: randomUUID(),
      occurredAt: startedAt + 70_000,
      streamId,
      playlistUri: `${streamId}/vod.m3u8`,
      durationMs: 60_400,
      segmentCount: 31,
      startedAt,
      endedAt: startedAt + 60_500,
      ladder: null,
      thumbnail: { uri: 'thumbs/000030.jpg', width: 320, height: 180 },
    });
    const videos = (user: string, query = '', at = base) =>
      call<VideosBody>('GET', `/api/v1/users/${user}/videos${query}`, { at });

    /** A broadcast as ingest, the counter and the packager announce it: live, watched, ended, recorded. */
    const broadcast = async (title: string, startedAt: number, peak: number, recorded = true): Promise<string> => {
      const res = await call<Started>('POST', '/api/v1/streams/start', {
        token: veraToken,
        body: { title, category: 'Music', tags: ['piano'], enable_recording: recorded },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const id = res.body.stream_id;
      await producer.publish(bus.topic('streamLifecycle'), [streamEvents.wentLive(id, startedAt)]);
      await producer.publish(bus.topic('viewerCounts'), [streamEvents.viewers(id, 3, peak)]);
      assert.equal((await call('POST', `/api/v1/streams/${id}/end`, { token: veraToken })).status, 200);
      await producer.publish(bus.topic('viewerCounts'), [streamEvents.viewers(id, 0, peak)]);
      if (recorded) await producer.publish(bus.topic('vodRecordings'), [vodOf(id, startedAt)]);
      return id;
    };

    before(async () => {
      await bus.init(['vodRecordings', 'vodDeletions']);
      veraToken = await mintToken(key, TOKEN, vera, 600);
      for (const [i, peak] of [41, 7, 12].entries()) ids.push(await broadcast(`Recital ${i}`, t0 + i * HOUR, peak));
      ids.push(await broadcast('Not recorded', t0 + 4 * HOUR, 5, false));
      await waitFor('every recording in the catalog', async () => {
        const res = await videos(vera.userId);
        return res.body.videos?.length === 3 && res.body.videos.every((v) => v.view_count > 0);
      });
    });

    it('GET /videos/:id: title, category, duration, thumbnail and VOD through the CDN, peak viewers, times', async () => {
      const id = ids[0]!;
      const res = await call<VideoBody>('GET', `/api/v1/videos/${id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        video_id: id,
        stream_id: id,
        title: 'Recital 0',
        category: 'Music',
        tags: ['piano'],
        streamer: { user_id: vera.userId, username: 'vera', avatar: null },
        duration_seconds: 60,
        thumbnail: `https://cdn.example.test/hls/${id}/thumbs/000030.jpg`,
        view_count: 41,
        started_at: new Date(t0).toISOString(),
        ended_at: new Date(t0 + 60_500).toISOString(),
        created_at: new Date(t0 + 70_000).toISOString(),
        playback_url: `https://cdn.example.test/hls/${id}/vod.m3u8`,
        watch_url: `https://example.test/streams/${id}`,
      });
      for (const other of [ids[3]!, 'stream_unknown']) {
        const missing = await call('GET', `/api/v1/videos/${other}`);
        assert.deepEqual([missing.status, missing.body.error.code], [404, 'video_not_found'], other);
      }
    });

    it('GET /users/:id/videos: newest first, cursor paging, only recorded broadcasts; bad paging is 400', async () => {
      const first = await videos(vera.userId, '?limit=2');
      assert.equal(first.status, 200);
      assert.deepEqual(
        first.body.videos.map((v) => v.video_id),
        [ids[2], ids[1]],
      );
      assert.ok(first.body.next_cursor);
      const second = await videos(vera.userId, `?limit=2&cursor=${first.body.next_cursor}`);
      assert.deepEqual(
        second.body.videos.map((v) => v.video_id),
        [ids[0]],
      );
      assert.equal(second.body.next_cursor, null);
      assert.deepEqual((await videos('user_nobody')).body, { videos: [], next_cursor: null });
      for (const q of ['?limit=0', '?limit=101', '?limit=x', '?cursor=forged', '?page=2', '?limit=1&limit=2']) {
        const bad = await call('GET', `/api/v1/users/${vera.userId}/videos${q}`);
        assert.deepEqual([bad.status, bad.body.error.code], [400, 'invalid_request'], q);
      }
    });

    it('DELETE /videos/:id: owner only; then gone from both reads and from playback, and a replay keeps it gone', async () => {
      const id = ids[1]!;
      const path = `/api/v1/videos/${id}`;
      assert.equal((await call('DELETE', path)).status, 401);
      const stranger = await call('DELETE', path, { token: tokens.bob });
      assert.deepEqual([stranger.status, stranger.body.error.code], [403, 'not_video_owner']);
      const unknown = await call('DELETE', '/api/v1/videos/stream_unknown', { token: veraToken });
      assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'video_not_found']);
      assert.equal((await call('GET', path)).status, 200, 'refusals change nothing');

      const deleted = await call('DELETE', path, { token: veraToken });
      assert.equal(deleted.status, 204);
      const records = await readTopicUntil(bus, bus.topicName('vodDeletions'), (all) => all.some((r) => r.key === id));
      const event = await bus.topic('vodDeletions').codec.decode(records.find((r) => r.key === id)!.value);
      assert.deepEqual([event.streamerId, event.deletedBy], [vera.userId, vera.userId]);
      // Read-your-writes: the answer came once this instance applied it.
      assert.equal((await call('GET', path)).status, 404);
      assert.deepEqual(
        (await videos(vera.userId)).body.videos.map((v) => v.video_id),
        [ids[2], ids[0]],
      );
      const playback = await call<Playback>('GET', `/api/v1/streams/${id}/playback`);
      assert.deepEqual(
        [playback.body.status, playback.body.playback_urls.hls, playback.body.thumbnail],
        ['ended', null, null],
      );
      const again = await call('DELETE', path, { token: veraToken });
      assert.deepEqual([again.status, again.body.error.code], [404, 'video_not_found']);

      // A packager rebuild announces the recording again; a fresh instance folds every topic from the start.
      await producer.publish(bus.topic('vodRecordings'), [vodOf(id, t0 + HOUR)]);
      const fresh = settings();
      const replayed = apiGateway({ bus, es, signingKey: key, settings: fresh, log: bus.log, metrics: bus.metrics });
      try {
        for (const c of replayed.components) await c.start();
        const at = `http://127.0.0.1:${replayed.server.port}`;
        const topics = [bus.topicName('vodRecordings'), bus.topicName('vodDeletions')];
        await waitForGroupToReachEnd(bus, `${fresh.registryGroupId}.media`, topics, { deadlineMs: 30_000 });
        assert.equal((await call('GET', path, { at })).status, 404);
        assert.deepEqual(
          (await videos(vera.userId, '', at)).body.videos.map((v) => v.video_id),
          [ids[2], ids[0]],
        );
        const replayedPlayback = await call<Playback>('GET', `/api/v1/streams/${id}/playback`, { at });
        assert.equal(replayedPlayback.body.playback_urls.hls, null);
        assert.equal((await call('GET', path)).status, 404, 'nor on the instance that saw it happen');
      } finally {
        for (const c of [...replayed.components].reverse()) await c.stop();
      }
    });
  });

  it('fuzz: every HTTP method, real and made up, on every route: no 5xx, no hang, nothing a route does not take is accepted', async () => {
    const id = 'stream_0123456789abcdef0123';
    const read = ['GET', 'HEAD', 'OPTIONS'];
    const target = { host: '127.0.0.1', port: api.server.port };
    const { findings, requests, statuses } = await fuzzMethods(target, [
      { path: '/api/v1/streams/start', allowed: ['POST', 'OPTIONS'] },
      { path: `/api/v1/streams/${id}`, allowed: ['PATCH', 'OPTIONS'] },
      { path: `/api/v1/streams/${id}/end`, allowed: ['POST', 'OPTIONS'] },
      { path: '/api/v1/streams/search?q=dark', allowed: read },
      { path: `/api/v1/streams/${id}/playback`, allowed: read },
      { path: '/api/v1/categories', allowed: read },
      { path: '/api/v1/users/user_alice/videos', allowed: read },
      { path: `/api/v1/videos/${id}`, allowed: [...read, 'DELETE'] },
      { path: '/api/v1/users/user_alice/follow', allowed: ['POST', 'DELETE', 'OPTIONS'] },
      { path: '/api/v1/users/user_alice', allowed: read },
      { path: '/api/v1/me/notifications', allowed: read },
      { path: '/api/v1/me/notifications/read', allowed: ['POST', 'OPTIONS'] },
      { path: '/nothing/here', allowed: [] },
    ]);
    assert.deepEqual(findings, [], `${requests} requests, answers ${JSON.stringify(statuses)}`);
    assert.equal(await plainGet(target, '/api/v1/categories'), 200);
  });

  describe('when Elasticsearch is down', () => {
    let down: ApiGateway;
    let dead: Elasticsearch;
    let server: Component;

    before(async () => {
      dead = createElasticsearch({ url: 'http://127.0.0.1:1' });
      down = apiGateway({ bus, es: dead, signingKey: key, settings: settings(), log: bus.log, metrics: bus.metrics });
      server = down.server;
      await server.start();
    });
    after(async () => {
      await server.stop();
      await dead.close();
    });

    it('search and categories answer 503 with Retry-After', async () => {
      const at = `http://127.0.0.1:${down.server.port}`;
      for (const path of ['/api/v1/streams/search?q=dark', '/api/v1/categories']) {
        const res = await call('GET', path, { at });
        assert.equal(res.status, 503, path);
        assert.equal(res.headers.get('retry-after'), '7');
        assert.equal(res.body.error.code, 'search_unavailable');
      }
    });
  });
});
