import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { LatencyMode, StreamLifecycleEvent } from '../schemas/generated/events.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import { FAKE_MEDIA_ARGS, launchChromium } from './support/browser.ts';
import { testBus } from './support/bus.ts';
import { collect, publishTestPattern, type Publisher } from './support/media.ts';
import { MediaPipeline, masterVariants } from './support/media-pipeline.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitFor } from './support/wait.ts';
import { fuzzMethods, plainGet } from './support/http-fuzz.ts';
import { presented, webrtcPage, whepPlay, whipPublish } from './support/webrtc.ts';

/**
 * Issue #21: WHIP ingest and WHEP playback with real browsers. Headless Chromium publishes its
 * fake camera and microphone over WHIP to the WebRTC gateway (on Node 24, as in production);
 * the broadcast goes live through the real RTMP ingest, is transcoded by a real media worker and
 * plays over HLS at the edge, while another page plays it over WHEP. An RTMP broadcast in
 * ultra-low mode plays over WHEP through the bridge. Bad requests get their HTTP errors.
 */
describe('WebRTC gateway: WHIP from a browser, WHEP to browsers, RTMP to WHEP', { timeout: 600_000 }, () => {
  let bus: EventBus;
  let producer: EventProducer;
  let pipeline: MediaPipeline;
  let browser: Browser;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  let rtmp: Publisher | undefined;
  const pages: Page[] = [];

  const newStream = async (latencyMode: LatencyMode): Promise<{ streamId: string; key: string }> => {
    const key = `live_${randomBytes(32).toString('base64url')}`;
    const streamId = `stream_${randomBytes(6).toString('hex')}`;
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(streamId, { latencyMode, streamKeyHash: createHash('sha256').update(key).digest('hex') }),
    ]);
    return { streamId, key };
  };
  const event = (streamId: string, type: string) =>
    waitFor(
      `${type} of ${streamId}`,
      async () =>
        lifecycle.events.find((e: StreamLifecycleEvent) => e.streamId === streamId && e.payload.type === type),
      90_000,
    ).catch((err: Error) => assert.fail(`${err.message}\n${pipeline.tail()}`));
  const page = async (): Promise<Page> => {
    const p = await webrtcPage(browser, `${pipeline.webrtcUrl}/whip`);
    pages.push(p);
    return p;
  };
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${pipeline.webrtcUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...headers },
      body,
    });

  before(async () => {
    bus = testBus('webrtc');
    await bus.init(['streamLifecycle', 'mediaSegments']);
    producer = bus.producer();
    await producer.connect();
    lifecycle = await collect(bus, 'streamLifecycle');
    pipeline = new MediaPipeline({
      topicPrefix: bus.config.topicPrefix,
      ladder: '360p',
      ingestEnv: { INGEST_RECONNECT_GRACE_MS: '10000' },
    });
    await pipeline.start();
    await pipeline.startWebRtc({ WEBRTC_MAX_VIEWERS_PER_STREAM: '1', WEBRTC_OFFERS_PER_ADDRESS_PER_MIN: '1000' });
    browser = await launchChromium(FAKE_MEDIA_ARGS);
  });

  after(async () => {
    rtmp?.proc.kill('SIGKILL');
    await browser?.close();
    await pipeline?.stop();
    await lifecycle?.stop();
    await producer?.disconnect();
  });

  it('a browser publishes over WHIP: the stream goes live, plays over WHEP and over HLS, and ends on DELETE', async () => {
    const { streamId, key } = await newStream('ULTRA_LOW');
    const publisher = await page();
    const pub = await whipPublish(publisher, `${pipeline.webrtcUrl}/whip`, key);
    assert.equal(pub.status, 201, pub.body);
    assert.match(pub.location ?? '', /^\/whip\/sessions\/[0-9a-f-]{36}$/);
    assert.match(pub.body, /a=candidate:.* 127\.0\.0\.1 /, 'the answer carries the configured ICE address');
    assert.doesNotMatch(pub.body, /a=candidate:(?!.* 127\.0\.0\.1 )/, 'and no other address');

    const live = await event(streamId, 'StreamWentLive');
    assert.ok(live.payload.type === 'StreamWentLive');
    assert.equal(live.payload.videoCodec, 'h264', 'the ingest probed the bridged source');
    assert.equal(live.payload.audioCodec, 'aac');

    const viewer = await page();
    const play = await whepPlay(viewer, `${pipeline.webrtcUrl}/whep/${streamId}`);
    assert.equal(play.status, 201, play.body);
    await waitFor('frames over WHEP', async () => (await presented(viewer)).frames >= 30, 60_000).catch((err: Error) =>
      assert.fail(`${err.message}\n${pipeline.tail()}`),
    );
    const seen = await presented(viewer);
    assert.ok(seen.width > 0 && seen.height > 0, `a decoded picture (${seen.width}x${seen.height})`);

    // One viewer per stream in this gateway's configuration: the next is told to come back.
    const second = await post(`/whep/${streamId}`, await browserOffer(await page()));
    assert.equal(second.status, 503);
    assert.ok(Number(second.headers.get('retry-after')) > 0);

    // The same broadcast reaches HLS viewers through the ladder.
    await waitFor(
      'the master playlist at the edge',
      async () => {
        const res = await fetch(pipeline.edgeFile(streamId, 'master.m3u8'));
        return res.status === 200 && masterVariants(await res.text()).length > 0;
      },
      120_000,
    ).catch((err: Error) => assert.fail(`${err.message}\n${pipeline.tail()}`));

    // A second publisher for the live key is refused while the first one is on.
    const again = await whipPublish(await page(), `${pipeline.webrtcUrl}/whip`, key);
    assert.equal(again.status, 409, again.body);

    const del = await fetch(`${pipeline.webrtcUrl}${pub.location}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    const ended = await event(streamId, 'StreamEnded');
    assert.ok(ended.payload.type === 'StreamEnded');
    assert.equal(ended.payload.reason, 'PUBLISHER_DISCONNECTED');
    const gone = await fetch(`${pipeline.webrtcUrl}${pub.location}`, { method: 'DELETE' });
    assert.equal(gone.status, 404, 'the session is over');
    const ended2 = await whipPublish(await page(), `${pipeline.webrtcUrl}/whip`, key);
    assert.equal(ended2.status, 403, 'an ended stream takes no new publisher');
  });

  it('a browser publisher that vanishes ends like a dropped encoder: held for the reconnect grace, then ended', async () => {
    const { streamId, key } = await newStream('LOW');
    const publisher = await page();
    const pub = await whipPublish(publisher, `${pipeline.webrtcUrl}/whip`, key);
    assert.equal(pub.status, 201, pub.body);
    await event(streamId, 'StreamWentLive');
    await publisher.close();
    const ended = await event(streamId, 'StreamEnded');
    assert.ok(ended.payload.type === 'StreamEnded');
    assert.equal(ended.payload.reason, 'PUBLISHER_DISCONNECTED');
    const held = pipeline.ingest.logs.find(
      (l) => l.msg === 'publisher vanished; holding the stream live for its reconnect' && l.streamId === streamId,
    );
    assert.ok(held, 'the ingest held the stream for a reconnect, as for an encoder that dropped');
    const left = pipeline.webrtc!.logs.find((l) => l.msg === 'whip publisher ended' && l.streamId === streamId);
    assert.ok(left && left.how !== 'deleted', `the gateway saw the publisher vanish (${String(left?.how)})`);
  });

  it('a bridge that dies is replaced, and the broadcast carries on through the ingest’s reconnect grace', async () => {
    const { streamId, key } = await newStream('ULTRA_LOW');
    const pub = await whipPublish(await page(), `${pipeline.webrtcUrl}/whip`, key);
    assert.equal(pub.status, 201, pub.body);
    const live = await event(streamId, 'StreamWentLive');
    const gw = pipeline.webrtc!;
    const first = gw.logs.find((l) => l.msg === 'whip bridge started' && l.streamId === streamId);
    assert.ok(first, 'the bridge started');
    process.kill(first.pid as number, 'SIGKILL');
    await gw
      .waitForLog(
        'a second bridge run',
        (l) => l.msg === 'whip bridge started' && l.streamId === streamId && l.run === 2,
      )
      .catch((err: Error) => assert.fail(`${err.message}\n${pipeline.tail()}`));
    await pipeline.ingest
      .waitForLog(
        'the replacement accepted as a reconnect',
        (l) => l.msg === 'publish accepted' && l.streamId === streamId && l.reconnect === true,
      )
      .catch((err: Error) => assert.fail(`${err.message}\n${pipeline.tail()}`));
    const resumed = await waitFor(
      'a StreamWentLive that resumes the broadcast',
      async () =>
        lifecycle.events.filter((e) => e.streamId === streamId && e.payload.type === 'StreamWentLive').length >= 2,
      90_000,
    );
    assert.ok(resumed);
    const wentLive = lifecycle.events.filter((e) => e.streamId === streamId && e.payload.type === 'StreamWentLive');
    assert.ok(live.payload.type === 'StreamWentLive' && wentLive[1]!.payload.type === 'StreamWentLive');
    assert.equal(wentLive[1]!.payload.startedAt, live.payload.startedAt, 'the same broadcast, not a new one');
    assert.ok(!lifecycle.events.some((e) => e.streamId === streamId && e.payload.type === 'StreamEnded'));
    const del = await fetch(`${pipeline.webrtcUrl}${pub.location}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await event(streamId, 'StreamEnded');
  });

  it('an RTMP broadcast in ultra-low mode plays over WHEP through the bridge; other modes are refused', async () => {
    const { streamId, key } = await newStream('ULTRA_LOW');
    rtmp = publishTestPattern(pipeline.rtmpUrl(key), { size: '640x360', fps: 30 });
    await event(streamId, 'StreamWentLive');
    const viewer = await page();
    const play = await whepPlay(viewer, `${pipeline.webrtcUrl}/whep/${streamId}`);
    assert.equal(play.status, 201, play.body);
    await waitFor('frames over WHEP', async () => (await presented(viewer)).frames >= 30, 60_000).catch((err: Error) =>
      assert.fail(`${err.message}\n${pipeline.tail()}`),
    );
    assert.equal((await presented(viewer)).width, 640);
    rtmp.proc.kill('SIGKILL');

    const standard = await newStream('STANDARD');
    const std = publishTestPattern(pipeline.rtmpUrl(standard.key), { size: '320x240', fps: 15 });
    try {
      await event(standard.streamId, 'StreamWentLive');
      const refused = await post(`/whep/${standard.streamId}`, await browserOffer(await page()));
      assert.equal(refused.status, 409);
      assert.match(await refused.text(), /ultra-low/);
    } finally {
      std.proc.kill('SIGKILL');
    }
  });

  it('answers bad requests with clear HTTP errors and takes no session', async () => {
    const { streamId, key } = await newStream('ULTRA_LOW');
    const offer = await browserOffer(await page(), 'publish');
    const auth = { authorization: `Bearer ${key}` };
    const error = async (res: Response): Promise<string> =>
      ((await res.json()) as { error: { code: string } }).error.code;

    let res = await post('/whip', offer);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
    res = await post('/whip', offer, { authorization: `Bearer live_${randomBytes(32).toString('base64url')}` });
    assert.equal(res.status, 401);
    assert.equal(await error(res), 'unknown_key');
    res = await post('/whip', 'v=0\r\nthis is not SDP', auth);
    assert.equal(res.status, 400);
    assert.equal(await error(res), 'malformed_sdp');
    res = await post('/whip', offer.replace(/H264/g, 'H265'), auth);
    assert.equal(res.status, 400);
    assert.equal(await error(res), 'unsupported_codecs');
    res = await post('/whip', 'x'.repeat(64 * 1024), auth);
    assert.equal(res.status, 413);
    res = await fetch(`${pipeline.webrtcUrl}/whip`, { method: 'POST', headers: auth, body: offer });
    assert.equal(res.status, 415);
    res = await fetch(`${pipeline.webrtcUrl}/whip`, { method: 'GET' });
    assert.equal(res.status, 405);
    res = await fetch(`${pipeline.webrtcUrl}/whip/sessions/${crypto.randomUUID()}`, { method: 'PATCH' });
    assert.equal(res.status, 405);
    res = await fetch(`${pipeline.webrtcUrl}/whep/sessions/${crypto.randomUUID()}`, { method: 'DELETE' });
    assert.equal(res.status, 404);
    res = await post(`/whep/${streamId}`, await browserOffer(await page()));
    assert.equal(res.status, 404, 'a stream that is not live');
    assert.equal(await error(res), 'not_live');
    // Nothing above went live or was disturbed.
    assert.equal(lifecycle.events.filter((e) => e.streamId === streamId).length, 1);
  });

  it('fuzz: every HTTP method, real and made up: no 5xx, no hang, nothing a route does not take accepted', async () => {
    const { hostname: host, port } = new URL(pipeline.webrtcUrl);
    const target = { host, port: Number(port) };
    const { findings, requests, statuses } = await fuzzMethods(target, [
      { path: '/whip', allowed: ['POST', 'OPTIONS'] },
      { path: '/whep/stream_000000000000', allowed: ['POST', 'OPTIONS'] },
      { path: '/whip/sessions/00000000-0000-4000-8000-000000000000', allowed: ['DELETE', 'OPTIONS'] },
      { path: '/whep/sessions/00000000-0000-4000-8000-000000000000', allowed: ['DELETE', 'OPTIONS'] },
      { path: '/nothing/here', allowed: ['OPTIONS'] },
    ]);
    assert.deepEqual(findings, [], `${requests} requests, answers ${JSON.stringify(statuses)}`);
    assert.equal(await plainGet(target, '/whip'), 405);
  });

  it('limits offers and sessions per client address: 429 with Retry-After', async () => {
    const { streamId, key } = await newStream('ULTRA_LOW');
    const limited = await pipeline.startWebRtc({
      WEBRTC_OFFERS_PER_ADDRESS_PER_MIN: '4',
      WEBRTC_SESSIONS_PER_ADDRESS: '1',
    });
    try {
      // Offer 1: a publisher, the one session this address may hold.
      const pub = await whipPublish(await page(), `${limited.url}/whip`, key);
      assert.equal(pub.status, 201, pub.body);
      const offer = await browserOffer(await page());
      const whep = () =>
        fetch(`${limited.url}/whep/${streamId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/sdp' },
          body: offer,
        });
      // Offer 2: a viewer from the same address is one session too many.
      let res = await whep();
      assert.equal(res.status, 429);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'too_many_sessions');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      // Once the publisher has gone, offers 3 and 4 are taken; the fifth in a minute is refused unread.
      assert.equal((await fetch(`${limited.url}${pub.location}`, { method: 'DELETE' })).status, 200);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        res = await whep();
        statuses.push(res.status);
        await res.body?.cancel();
      }
      assert.notEqual(statuses[0], 429, 'the session was given back');
      assert.equal(statuses[2], 429, 'the fifth offer in a minute is refused');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    } finally {
      await limited.proc.kill('SIGTERM');
    }
  });
});

/** A real browser's offer (publish: camera and microphone, sendonly; play: recvonly). */
function browserOffer(page: Page, role: 'publish' | 'play' = 'play'): Promise<string> {
  return page.evaluate(async (role) => {
    const pc = new RTCPeerConnection();
    if (role === 'publish') {
      const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      for (const t of media.getTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
    } else {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription!.sdp;
  }, role);
}
