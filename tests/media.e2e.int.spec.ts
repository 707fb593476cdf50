import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MediaEvent, SegmentReady } from '../schemas/generated/events.ts';
import { mintToken } from '../platform/auth/tokens.ts';
import { apiGateway, type ApiGateway } from '../gateways/api/gateway.ts';
import type { playbackResponse, startedResponse } from '../gateways/api/protocol.ts';
import { createElasticsearch, type Elasticsearch } from '../platform/elasticsearch/client.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import { testBus } from './support/bus.ts';
import { endpoints } from './support/endpoints.ts';
import { decodeAll, probe } from './support/hls.ts';
import { uniqueName } from './support/isolation.ts';
import { collect, publishTestPattern, type Publisher } from './support/media.ts';
import { decodeFor, MediaPipeline, masterVariants, parseMediaPlaylist } from './support/media-pipeline.ts';
import { waitFor } from './support/wait.ts';
import { reloadProblems, validateMediaPlaylist, type ParsedMediaPlaylist } from './support/ll-hls.ts';

/**
 * Issue #6 end to end: a stream created through the API, published over RTMP by a real ffmpeg,
 * transcoded by a real media worker, packaged, served by the origin and played THROUGH the nginx
 * edge (warmed by the CDN prefetcher), every service a real process on free ports over a temporary
 * MEDIA_ROOT. A worker is killed mid-stream and replaced; the stream ends into a VOD.
 */
type Playback = ReturnType<typeof playbackResponse>;
type Started = ReturnType<typeof startedResponse>;
type Segment = SegmentReady & { workerId: string; streamId: string };

const TOKEN = { issuer: 'live-platform', audience: 'live-api' };

/** Polls every rendition's live playlist at the edge as a player does, checking each snapshot. */
class PlaylistWatcher {
  readonly sequences = new Map<string, Set<number>>();
  readonly discontinuities = new Map<string, Set<number>>();
  readonly problems: string[] = [];
  snapshots = 0;
  private readonly fetched = new Set<string>();
  private readonly previous = new Map<string, ParsedMediaPlaylist>();
  parts = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    private readonly pipeline: MediaPipeline,
    private readonly streamId: string,
    private readonly renditions: string[],
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      for (const r of this.renditions) {
        try {
          await this.check(r);
        } catch (err) {
          this.problems.push(`${r}: ${(err as Error).message}`);
        }
      }
      await new Promise((done) => setTimeout(done, 300));
    }
  }

  private async check(rendition: string): Promise<void> {
    const res = await fetch(this.pipeline.edgeFile(this.streamId, `${rendition}.m3u8`));
    if (res.status !== 200) throw new Error(`playlist answered ${res.status}`);
    const text = await res.text();
    const p = parseMediaPlaylist(text);
    this.snapshots++;
    // Every snapshot is a valid LL-HLS playlist, and each reload follows on from the one before.
    const strict = validateMediaPlaylist(text);
    for (const problem of strict.problems) this.problems.push(`${rendition}: ${problem}`);
    const before = this.previous.get(rendition);
    if (before)
      for (const problem of reloadProblems(before, strict.playlist)) this.problems.push(`${rendition}: ${problem}`);
    this.previous.set(rendition, strict.playlist);
    const listed = strict.playlist.segments.flatMap((s) => [...(s.map ? [s.map] : []), ...s.parts.map((x) => x.uri)]);
    this.parts += strict.playlist.segments.reduce((n, s) => n + s.parts.length, 0);
    const seen = this.sequences.get(rendition) ?? new Set();
    const disc = this.discontinuities.get(rendition) ?? new Set();
    this.sequences.set(rendition, seen);
    this.discontinuities.set(rendition, disc);
    for (const s of p.segments) {
      // A segment's number is its media sequence (MEDIA-SEQUENCE + position) and its file name.
      if (s.uri !== `${rendition}/${String(s.sequence).padStart(6, '0')}.m4s`)
        this.problems.push(`${rendition}: ${s.uri} listed at media sequence ${s.sequence}`);
      seen.add(s.sequence);
      if (s.discontinuity) disc.add(s.sequence);
      if (this.fetched.has(s.uri)) continue;
      // Listed means playable: every segment a playlist names is there, through the edge.
      const seg = await fetch(this.pipeline.edgeFile(this.streamId, s.uri));
      const body = await seg.arrayBuffer();
      if (seg.status !== 200 || body.byteLength === 0)
        this.problems.push(`${s.uri} is listed but the edge answered ${seg.status} (${body.byteLength} bytes)`);
      this.fetched.add(s.uri);
    }
    // Parts and init sections too: a player near the live edge plays the parts, not the segments.
    for (const uri of listed) {
      if (this.fetched.has(uri)) continue;
      const res = await fetch(this.pipeline.edgeFile(this.streamId, uri));
      const body = await res.arrayBuffer();
      if (res.status !== 200 || body.byteLength === 0)
        this.problems.push(`${uri} is listed but the edge answered ${res.status} (${body.byteLength} bytes)`);
      this.fetched.add(uri);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

describe('media end to end: RTMP in, HLS out through the edge', () => {
  let bus: EventBus;
  let es: Elasticsearch;
  let api: ApiGateway;
  let apiBase: string;
  let pipeline: MediaPipeline;
  let publisher: Publisher | undefined;
  let watcher: PlaylistWatcher | undefined;
  let media: Awaited<ReturnType<typeof collect<'mediaSegments'>>>;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  let vods: Awaited<ReturnType<typeof collect<'vodRecordings'>>>;
  let streamId = '';
  let streamKey = '';

  const segments = (): Segment[] =>
    media.events
      .filter(
        (e): e is MediaEvent & { payload: { type: 'SegmentReady' } } =>
          e.streamId === streamId && e.payload.type === 'SegmentReady',
      )
      .map((e) => ({ ...e.payload, workerId: e.workerId, streamId: e.streamId }));
  /** Sequences announced for a rendition, once each, in order. */
  const announcedOf = (rendition: string): number[] =>
    [
      ...new Set(
        segments()
          .filter((s) => s.rendition === rendition)
          .map((s) => s.sequence),
      ),
    ].sort((a, b) => a - b);
  const playback = async (): Promise<Playback> => {
    const res = await fetch(`${apiBase}/api/v1/streams/${streamId}/playback`);
    assert.equal(res.status, 200);
    return (await res.json()) as Playback;
  };
  const edgeText = async (file: string): Promise<string> => {
    const res = await fetch(pipeline.edgeFile(streamId, file));
    if (res.status !== 200) throw new Error(`${file}: ${res.status}`);
    return res.text();
  };
  const ffmpegsWriting = (): number =>
    spawnSync('pgrep', ['-f', join(pipeline.mediaRoot, streamId)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean).length;

  before(async () => {
    bus = testBus('e2e');
    await bus.init(['streamLifecycle', 'mediaSegments', 'vodRecordings', 'viewerCounts']);
    media = await collect(bus, 'mediaSegments');
    lifecycle = await collect(bus, 'streamLifecycle');
    vods = await collect(bus, 'vodRecordings');
    pipeline = new MediaPipeline({ topicPrefix: bus.config.topicPrefix });
    await pipeline.start();

    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    const signingKey = randomBytes(32);
    api = apiGateway({
      bus,
      es,
      signingKey,
      log: bus.log,
      metrics: bus.metrics,
      settings: {
        host: '127.0.0.1',
        port: 0,
        maxBodyBytes: 16 * 1024,
        registryGroupId: uniqueName('e2e-api'),
        registryCatchUpMs: 60_000,
        readYourWritesMs: 10_000,
        discoveryAlias: uniqueName('e2e-streams'),
        retryAfterS: 1,
        token: TOKEN,
        links: {
          publicBaseUrl: 'https://example.test',
          cdnBaseUrl: pipeline.edgeUrl,
          wsBaseUrl: 'wss://chat.example.test',
          ingest: { rtmp: `rtmp://127.0.0.1:${pipeline.rtmpPort}/live`, rtmps: null, webrtc: null },
          whepBaseUrl: null,
        },
      },
    });
    for (const c of api.components) await c.start();
    apiBase = `http://127.0.0.1:${api.server.port}`;
    const token = await mintToken(signingKey, TOKEN, { userId: 'user_e2e', username: 'e2e' }, 600);
    const res = await fetch(`${apiBase}/api/v1/streams/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'End to end', category: 'Gaming' }),
    });
    assert.equal(res.status, 201);
    const started = (await res.json()) as Started;
    streamId = started.stream_id;
    streamKey = started.stream_key;
  });

  after(async () => {
    publisher?.proc.kill('SIGKILL');
    await watcher?.stop();
    await pipeline?.stop();
    for (const c of [...(api?.components ?? [])].reverse()) await c.stop();
    await media?.stop();
    await lifecycle?.stop();
    await vods?.stop();
    await es?.close();
  });

  it('refuses a publisher with a wrong key', async () => {
    const wrong = publishTestPattern(pipeline.rtmpUrl(`live_${randomBytes(32).toString('base64url')}`), {
      seconds: 30,
    });
    assert.notEqual(await wrong.exited, 0, 'ffmpeg must fail to publish with a wrong key');
    await pipeline.ingest.waitForLog('refusal', (l) => l.msg === 'publish refused' && l.reason === 'unknown_key');
  });

  it('plays the master and every rendition through the edge; the API gives the edge URL and the ladder', async () => {
    publisher = publishTestPattern(pipeline.rtmpUrl(streamKey), { size: '640x360', fps: 15 });
    const master = await waitFor(
      'the master playlist at the edge',
      async () => {
        const text = await edgeText('master.m3u8');
        return masterVariants(text).length === 2 && text;
      },
      180_000,
    ).catch((err: Error) => assert.fail(`${err.message}\n${pipeline.tail()}`));
    const variants = masterVariants(master);
    assert.deepEqual(variants, ['360p.m3u8', '160p.m3u8'], 'the ladder of a 640x360 15 fps source, highest first');
    assert.match(master, /RESOLUTION=640x360,FRAME-RATE=15\.000,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    const renditions = variants.map((v) => v.replace('.m3u8', ''));
    watcher = new PlaylistWatcher(pipeline, streamId, renditions);

    const streams = await probe(pipeline.edgeFile(streamId, 'master.m3u8'));
    assert.ok(streams.some((s) => s.codec_type === 'video' && s.codec_name === 'h264'));
    assert.ok(streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'));
    for (const v of variants) {
      await waitFor(
        `three segments in ${v}`,
        async () => parseMediaPlaylist(await edgeText(v)).segments.length >= 3,
        120_000,
      );
      const d = await decodeFor(pipeline.edgeFile(streamId, v), 3);
      assert.ok(d.video && d.audio, `${v} has H.264 video and AAC audio`);
      assert.ok(d.decodedMs >= 2500, `${v}: decoded ${d.decodedMs} ms`);
      // LL-HLS at the edge: parts listed, the next one hinted, a blocking reload for it answered.
      const ll = validateMediaPlaylist(await edgeText(v), { strictPartDurations: true });
      assert.deepEqual(ll.problems, [], `${v} is strict LL-HLS`);
      assert.ok(ll.playlist.preloadHint && ll.playlist.last, `${v} hints its next part`);
      const { last } = ll.playlist;
      const next = last.part === null ? { msn: last.msn + 1, part: 0 } : { msn: last.msn, part: last.part + 1 };
      const held = await fetch(`${pipeline.edgeFile(streamId, v)}?_HLS_msn=${next.msn}&_HLS_part=${next.part}`);
      assert.equal(held.status, 200, `${v}: a blocking reload for the next part is answered`);
      const answer = validateMediaPlaylist(await held.text()).playlist;
      const after = answer.last!;
      // Held until that part is listed, or anything later; a part index past the end of a
      // segment that completed meanwhile is answered with the complete segment (the origin's rule).
      const completed = answer.segments.some((s) => s.msn === next.msn && s.uri !== null);
      assert.ok(
        after.msn > next.msn || (after.msn === next.msn && ((after.part ?? Infinity) >= next.part || completed)),
        `${v}: the held answer lists the part asked for`,
      );
    }
    await waitFor('parts seen by the watcher', () => watcher!.parts > 0);

    const p = await waitFor('the ladder in the playback answer', async () => {
      const b = await playback();
      return b.qualities.length > 0 && b;
    });
    assert.equal(p.status, 'live');
    assert.equal(p.playback_urls.hls, pipeline.edgeFile(streamId, 'master.m3u8'));
    assert.deepEqual(
      p.qualities.map((q) => [q.name, q.resolution, q.fps]),
      [
        ['360p', '640x360', 15],
        ['160p', '284x160', 15],
      ],
    );
  });

  it('a worker killed mid-stream is replaced: sequences continue, a discontinuity, never a missing segment', async () => {
    assert.ok(watcher, 'the stream is playing');
    const renditions = [...watcher.sequences.keys()];
    const lastBefore = Math.max(...segments().map((s) => s.sequence));
    await pipeline.workers[0]!.kill('SIGKILL');
    await waitFor('the dead worker’s ffmpeg to go', () => ffmpegsWriting() === 0);
    await pipeline.startWorker('worker-b');

    const restart = await waitFor(
      'the replacement’s segments in every live playlist at the edge',
      () => {
        const fromB = segments().filter((s) => s.workerId === 'worker-b' && s.discontinuity);
        const firsts = renditions.map((r) => fromB.find((s) => s.rendition === r)?.sequence);
        if (firsts.some((f) => f === undefined)) return false;
        const listed = renditions.every((r, i) => [...watcher!.sequences.get(r)!].some((seq) => seq >= firsts[i]! + 2));
        return listed && (firsts as number[]);
      },
      240_000,
    ).catch((err: Error) => assert.fail(`${err.message}\n${pipeline.tail()}`));

    assert.deepEqual(watcher.problems, [], 'every playlist snapshot listed only playable segments');
    renditions.forEach((r, i) => {
      const first = restart[i]!;
      assert.ok(first > lastBefore - 1, `${r}: numbering went on after the restart`);
      assert.ok(
        watcher!.discontinuities.get(r)!.has(first),
        `${r}: EXT-X-DISCONTINUITY before ${first}, the replacement's first segment`,
      );
      const announced = new Set(announcedOf(r));
      const seen = [...watcher!.sequences.get(r)!].sort((a, b) => a - b);
      for (let k = 1; k < seen.length; k++) {
        if (seen[k] === seen[k - 1]! + 1) continue;
        // The only hole allowed is a sequence this rendition never started: the replacement
        // assembles what the killed worker left of its segment in progress from its parts, and
        // numbers every rendition after the highest any of them reached (so they stay aligned).
        // Nothing announced was left out.
        assert.equal(seen[k], first, `${r}: sequences continue (${seen.join(',')})`);
        for (let m = seen[k - 1]! + 1; m < first; m++)
          assert.ok(!announced.has(m), `${r}: announced segment ${m} never listed`);
      }
    });
  });

  it('a publisher that drops without a goodbye and reconnects: still live, segments go on after a discontinuity', async () => {
    assert.ok(publisher && watcher, 'the stream is playing');
    const renditions = [...watcher.sequences.keys()];
    const lastBefore = Math.max(...segments().map((s) => s.sequence));
    publisher.proc.kill('SIGKILL');
    await pipeline.ingest.waitForLog(
      'the stream held for a reconnect',
      (l) => l.msg === 'publisher vanished; holding the stream live for its reconnect' && l.streamId === streamId,
    );
    publisher = publishTestPattern(pipeline.rtmpUrl(streamKey), { size: '640x360', fps: 15 });
    const resumedAt = await waitFor(
      'segments of the reconnected publisher in every live playlist at the edge',
      () => {
        const firsts = renditions.map(
          (r) => segments().find((s) => s.rendition === r && s.sequence > lastBefore && s.discontinuity)?.sequence,
        );
        if (firsts.some((f) => f === undefined)) return false;
        const listed = renditions.every((r, i) => [...watcher!.sequences.get(r)!].some((seq) => seq >= firsts[i]! + 2));
        return listed && (firsts as number[]);
      },
      240_000,
    ).catch((err: Error) => assert.fail(`${err.message}\n${pipeline.tail()}`));
    assert.deepEqual(
      lifecycle.events.filter((e) => e.streamId === streamId && e.payload.type === 'StreamEnded'),
      [],
      'the broadcast never ended',
    );
    const goLives = lifecycle.events.filter((e) => e.streamId === streamId && e.payload.type === 'StreamWentLive');
    assert.equal(new Set(goLives.map((e) => e.payload.type === 'StreamWentLive' && e.payload.startedAt)).size, 1);
    assert.ok(goLives.length >= 2, 'ingest announced the resumed source');
    assert.deepEqual(watcher.problems, [], 'every playlist snapshot listed only playable segments');
    renditions.forEach((r, i) =>
      assert.ok(watcher!.discontinuities.get(r)!.has(resumedAt[i]!), `${r}: EXT-X-DISCONTINUITY at the reconnect`),
    );
  });

  it('ending the stream ends the live playlists and leaves a VOD that plays end to end through the edge', async () => {
    assert.ok(publisher && watcher);
    publisher.proc.kill('SIGINT');
    await waitFor(
      'StreamEnded',
      () => lifecycle.events.some((e) => e.streamId === streamId && e.payload.type === 'StreamEnded'),
      60_000,
    );
    // A player asks as soon as the API points at the VOD, possibly before the last segments land.
    const vodUrl = await waitFor(
      'the VOD in the playback answer',
      async () => {
        const b = await playback();
        return b.status === 'ended' && b.playback_urls.hls?.endsWith('/vod.m3u8') && b.playback_urls.hls;
      },
      120_000,
    );
    assert.equal(vodUrl, pipeline.edgeFile(streamId, 'vod.m3u8'));
    const early = await fetch(vodUrl);
    assert.equal(early.status, 200);
    for (const v of masterVariants(await early.text())) await fetch(pipeline.edgeFile(streamId, v));

    await waitFor(
      'the worker to finish',
      () => pipeline.workers[1]!.logs.some((l) => l.msg === 'ffmpeg finished' && l.streamId === streamId),
      120_000,
    );
    await watcher.stop();
    assert.deepEqual(watcher.problems, [], 'every playlist snapshot listed only playable segments');

    const renditions = [...watcher.sequences.keys()];
    for (const r of renditions) {
      await waitFor(`${r} live playlist ends`, async () => parseMediaPlaylist(await edgeText(`${r}.m3u8`)).endList);
      const announced = announcedOf(r);
      assert.equal(announced[0], 0, `${r}: the broadcast starts at sequence 0`);
      // Through the edge, the VOD catches up with segments announced after the stream ended.
      const vod = await waitFor(
        `${r} VOD at the edge lists all ${announced.length} segments`,
        async () => {
          const p = parseMediaPlaylist(await edgeText(`${r}.vod.m3u8`));
          return p.segments.length === announced.length && p;
        },
        60_000,
      ).catch(async (err: Error) =>
        assert.fail(
          `${err.message}\nat the edge:\n${await edgeText(`${r}.vod.m3u8`)}\nat the origin:\n${readFileSync(join(pipeline.mediaRoot, streamId, `${r}.vod.m3u8`), 'utf8')}`,
        ),
      );
      assert.ok(vod.endList, `${r}.vod.m3u8 has EXT-X-ENDLIST`);
      assert.deepEqual(
        vod.segments.map((s) => s.uri),
        announced.map((n) => `${r}/${String(n).padStart(6, '0')}.m4s`),
      );
      assert.ok(
        vod.segments.some((s) => s.discontinuity),
        `${r}: the VOD marks the worker restart`,
      );
    }
    const vodMaster = masterVariants(await edgeText('vod.m3u8'));
    assert.deepEqual(
      vodMaster,
      renditions.map((r) => `${r}.vod.m3u8`),
    );
    for (const v of vodMaster) {
      const total = parseMediaPlaylist(await edgeText(v)).segments.reduce((a, s) => a + s.duration * 1000, 0);
      const decoded = await decodeAll(pipeline.edgeFile(streamId, v));
      assert.ok(decoded >= total * 0.9, `${v}: decoded ${decoded} ms of ${Math.round(total)} ms`);
    }
  });
});
