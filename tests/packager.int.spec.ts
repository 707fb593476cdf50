import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MediaEvent, MediaEventPayload, RenditionLadder } from '../schemas/generated/events.ts';
import { testBus } from './support/bus.ts';
import { serverEnv } from './support/endpoints.ts';
import { decodeAll, makeSegments, probe } from './support/hls.ts';
import { assertLlHls, reloadProblems, validateMediaPlaylist } from './support/ll-hls.ts';
import { uniqueName } from './support/isolation.ts';
import { collect } from './support/media.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitFor } from './support/wait.ts';
import { compareDumps } from '../platform/store/compare.ts';
import { rebuild } from '../platform/store/rebuild.ts';
import { OriginServer } from '../gateways/origin/server.ts';
import { DEFAULT_CACHE_POLICY } from '../domain/media/hls-paths.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { Packager } from '../processors/packager/packager.ts';
import { loadPackagerConfig } from '../processors/packager/config.ts';
import { dumpPlaylists, playlistsStore } from '../processors/packager/definition.ts';
import { UnrecordedMediaRetention } from '../processors/packager/retention.ts';
import { PackagerStorage } from '../processors/packager/storage.ts';

const log = createLogger('packager', process.env.TEST_LOG_LEVEL ?? 'silent');

describe('packager against real Kafka, real segments and ffmpeg', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let root: string;
  let source: string;
  let durations: number[];
  let packager: Packager;
  let origin: OriginServer;
  let vods: Awaited<ReturnType<typeof collect<'vodRecordings'>>>;

  before(async () => {
    bus = testBus('packager');
    await bus.init(['mediaSegments', 'streamLifecycle', 'vodRecordings']);
    producer = bus.producer();
    await producer.connect();
    root = mkdtempSync(join(tmpdir(), 'packager-'));
    source = mkdtempSync(join(tmpdir(), 'packager-src-'));
    durations = makeSegments(source, 4);
    packager = new Packager(bus, new PackagerStorage(root, root), log, {
      groupId: uniqueName('packager'),
      windowSize: 3,
      dvrWindowMs: 7_200_000,
      announce: true,
      from: 'earliest',
      retry: { initialMs: 50, maxMs: 500 },
    });
    await packager.start();
    origin = new OriginServer({
      host: '127.0.0.1',
      port: 0,
      mediaRoot: root,
      cache: DEFAULT_CACHE_POLICY,
      log,
      metrics: new Metrics('origin', { defaults: false }),
    });
    await origin.start();
    vods = await collect(bus, 'vodRecordings');
  });
  after(async () => {
    await vods.stop();
    await packager.stop();
    await origin.stop();
    await producer.disconnect();
    rmSync(root, { recursive: true, force: true });
    rmSync(source, { recursive: true, force: true });
  });

  /** `npm run replay -- playlists --into <apart>`, on this spec's topics and media root. */
  const rebuildApart = (again: EventBus, apart: string, env: Record<string, string>) =>
    rebuild(
      { bus: again, log },
      playlistsStore(
        loadPackagerConfig({
          ...serverEnv(bus.config.topicPrefix),
          MEDIA_ROOT: root,
          PACKAGER_GROUP_ID: uniqueName('rebuild'),
          PACKAGER_WINDOW_SEGMENTS: '3',
          ...env,
        }),
        { bus: again, log },
      ),
      { mode: 'apart', into: apart },
      { deadlineMs: 60_000 },
    );

  const T0 = Date.now();
  const media = (streamId: string, payload: MediaEventPayload): MediaEvent => ({
    eventId: randomUUID(),
    occurredAt: Date.now(),
    streamId,
    workerId: 'worker-1',
    payload,
  });
  const ladder = (streamId: string) =>
    media(streamId, {
      type: 'RenditionLadder',
      segmentDurationMs: 1000,
      encoder: 'libx264',
      partTargetMs: 0,
      reason: 'START',
      dropped: [],
      renditions: [
        {
          name: '360p',
          width: 96,
          height: 64,
          frameRate: 10,
          videoBitrate: 300_000,
          audioBitrate: 32_000,
          codecs: 'avc1.64000a,mp4a.40.2',
        },
        {
          name: '160p',
          width: 96,
          height: 64,
          frameRate: 10,
          videoBitrate: 200_000,
          audioBitrate: 32_000,
          codecs: 'avc1.64000a,mp4a.40.2',
        },
      ],
    });
  /** Puts segment `i` of the source in place (as a worker renames it) and announces it. */
  const segment = (
    streamId: string,
    rendition: string,
    i: number,
    o: { file?: boolean; discontinuity?: boolean } = {},
  ) => {
    const uri = `${rendition}/${String(i).padStart(6, '0')}.ts`;
    const from = join(source, `${String(i % durations.length).padStart(6, '0')}.ts`);
    if (o.file ?? true) cpSync(from, join(root, streamId, uri));
    return media(streamId, {
      type: 'SegmentReady',
      rendition,
      sequence: i,
      durationMs: durations[i % durations.length]!,
      uri,
      bytes: statSync(from).size,
      programDateTime: T0 + i * 1000,
      discontinuity: o.discontinuity ?? false,
      initUri: null,
    });
  };
  const file = (streamId: string, name: string) => join(root, streamId, name);
  const read = (streamId: string, name: string) =>
    existsSync(file(streamId, name)) ? readFileSync(file(streamId, name), 'utf8') : '';
  const url = (streamId: string, name: string) => `http://127.0.0.1:${origin.port}/hls/${streamId}/${name}`;

  it('builds the master and sliding media playlists that ffprobe plays; a recorded stream ends as a playable VOD', async () => {
    const id = uniqueName('live');
    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.created(id), streamEvents.wentLive(id, T0)]);
    const events = [ladder(id), media(id, { type: 'ThumbnailReady', uri: 'thumbs/000001.jpg', width: 96, height: 64 })];
    for (let i = 0; i < 4; i++) {
      // The worker restarted before segment 2: a discontinuity in both renditions.
      for (const r of ['360p', '160p']) events.push(segment(id, r, i, { discontinuity: i === 2 }));
    }
    await producer.publish(bus.topic('mediaSegments'), events);

    await waitFor('the window at its newest three', () => /MEDIA-SEQUENCE:1\n/.test(read(id, '160p.m3u8')));
    const master = read(id, 'master.m3u8');
    assert.match(master, /RESOLUTION=96x64,FRAME-RATE=10.000,CODECS="avc1.64000a,mp4a.40.2",NAME="360p"\n360p.m3u8\n/);
    assert.ok(master.indexOf('360p.m3u8') < master.indexOf('160p.m3u8'), 'highest first');
    const playlist = read(id, '360p.m3u8');
    assert.match(playlist, /#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n/);
    assert.match(
      playlist,
      /360p\/000001.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:[\d.]+,\n360p\/000002.ts/,
    );
    assert.match(playlist, new RegExp(`#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 3000).toISOString()}\n`));
    assert.doesNotMatch(playlist, /ENDLIST/);
    // Rewind: the DVR playlists keep what the live window let go.
    assert.match(read(id, 'dvr.m3u8'), /NAME="360p"\n360p.dvr.m3u8\n/);
    const dvr = read(id, '360p.dvr.m3u8');
    assert.match(dvr, /#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n/);
    assert.equal(dvr.match(/#EXTINF/g)?.length, 4);
    assert.doesNotMatch(dvr, /ENDLIST|SERVER-CONTROL/);
    assert.ok(
      (await probe(url(id, 'dvr.m3u8'))).some((s) => s.codec_type === 'video'),
      'ffprobe plays the DVR master',
    );

    const streams = await probe(url(id, 'master.m3u8'));
    assert.ok(streams.some((s) => s.codec_type === 'video' && s.codec_name === 'h264'));
    assert.ok(streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'));

    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.ended(id)]);
    await waitFor('the VOD', () => read(id, 'vod.m3u8').includes('360p.vod.m3u8'));
    assert.match(read(id, '360p.m3u8'), /#EXT-X-ENDLIST\n$/, 'the live playlist ends too');
    assert.match(read(id, '160p.dvr.m3u8'), /#EXT-X-ENDLIST\n$/, 'and so does the DVR one');
    const vod = read(id, '160p.vod.m3u8');
    assert.match(vod, /#EXT-X-PLAYLIST-TYPE:VOD\n/);
    assert.equal(vod.match(/#EXTINF/g)?.length, 4);
    assert.match(vod, /#EXT-X-ENDLIST\n$/);
    const decoded = await decodeAll(url(id, 'vod.m3u8'));
    assert.ok(decoded >= durations.reduce((a, b) => a + b, 0) - 500, `decoded ${decoded} ms of the VOD`);

    const recorded = await waitFor('VodRecorded', () => vods.events.find((e) => e.streamId === id));
    assert.equal(recorded.playlistUri, `${id}/vod.m3u8`);
    assert.equal(recorded.segmentCount, 4);
    assert.equal(
      recorded.durationMs,
      durations.reduce((a, b) => a + b, 0),
    );
    assert.equal(recorded.startedAt, T0);
    // What the VOD plays and shows, for when live.media.segments no longer has it.
    assert.deepEqual(
      recorded.ladder?.renditions.map((r) => r.name),
      ['360p', '160p'],
    );
    assert.deepEqual({ ...recorded.thumbnail }, { uri: 'thumbs/000001.jpg', width: 96, height: 64 });
  });

  it('never lists a segment whose file is missing, and counts it', async () => {
    const id = uniqueName('missing');
    await producer.publish(bus.topic('mediaSegments'), [
      ladder(id),
      segment(id, '360p', 0),
      segment(id, '360p', 1),
      segment(id, '360p', 2, { file: false }),
    ]);
    await waitFor('the playlist after the missing segment', () => read(id, '360p.m3u8').includes('MEDIA-SEQUENCE:3'));
    const playlist = read(id, '360p.m3u8');
    assert.doesNotMatch(playlist, /\.ts/, 'nothing listed: the newest segment is missing');
    await producer.publish(bus.topic('mediaSegments'), [segment(id, '360p', 3)]);
    await waitFor('the next segment listed', () => read(id, '360p.m3u8').includes('000003.ts'));
    assert.match(read(id, '360p.m3u8'), /#EXT-X-MEDIA-SEQUENCE:3\n/);
    assert.doesNotMatch(read(id, '360p.m3u8'), /00000[012]\.ts/);
    assert.match(
      await bus.metrics.registry.getSingleMetricAsString('live_packager_segments_total'),
      /result="missing"[^\n]* 1$/m,
    );
  });

  it('dead-letters an event whose names would leave the stream folder, and goes on', async () => {
    const id = uniqueName('unsafe');
    const bad = media(id, {
      ...(segment(id, '360p', 0).payload as MediaEventPayload),
      uri: '../../escape.ts',
    } as MediaEventPayload);
    await producer.publish(bus.topic('mediaSegments'), [ladder(id), bad, segment(id, '360p', 1)]);
    await waitFor('the good segment listed', () => read(id, '360p.m3u8').includes('000001.ts'));
    assert.match(
      await bus.metrics.registry.getSingleMetricAsString('live_events_dead_lettered_total'),
      /reason="invalid"[^\n]* 1$/m,
    );
  });

  /** A CMAF worker's files (any bytes do for the packager), renamed into place, and their events. */
  const cmaf = (streamId: string, rendition: string, run: number) => {
    const pad = (n: number) => String(n).padStart(6, '0');
    const initUri = `${rendition}/init-${pad(run)}.mp4`;
    const put = (uri: string) => {
      mkdirSync(join(root, streamId, rendition), { recursive: true });
      writeFileSync(join(root, streamId, uri), uri);
    };
    put(initUri);
    return {
      /** Part `i` of segment `sequence`: six to a 2 s segment, 5 x 334 ms and 330 ms. */
      part: (sequence: number, i: number, o: { uri?: string } = {}) => {
        const uri = o.uri ?? `${rendition}/${pad(sequence)}.${i}.m4s`;
        put(uri);
        return media(streamId, {
          type: 'PartReady',
          rendition,
          sequence,
          part: i,
          durationMs: i === 5 ? 330 : 334,
          independent: i === 0,
          uri,
          initUri,
          bytes: uri.length,
          programDateTime: T0 + sequence * 2000 + i * 334,
          discontinuity: run > 0 && sequence === run,
        });
      },
      segment: (sequence: number) => {
        const uri = `${rendition}/${pad(sequence)}.m4s`;
        put(uri);
        return media(streamId, {
          type: 'SegmentReady',
          rendition,
          sequence,
          durationMs: 2000,
          uri,
          bytes: uri.length,
          programDateTime: T0 + sequence * 2000,
          discontinuity: run > 0 && sequence === run,
          initUri,
        });
      },
    };
  };

  it('LL-HLS from a CMAF worker: parts, preload hint and rendition reports; a restart mid-segment; a VOD with EXT-X-MAP', async () => {
    const id = uniqueName('ll');
    const renditions = ['360p', '160p'];
    const ll = media(id, {
      ...(ladder(id).payload as RenditionLadder & { type: 'RenditionLadder' }),
      segmentDurationMs: 2000,
      partTargetMs: 334,
      reason: 'START',
      dropped: [],
    });
    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.created(id), streamEvents.wentLive(id, T0)]);
    const first = renditions.map((r) => cmaf(id, r, 0));
    /** Parts (and the segment once all six are out) of `sequence`, the renditions in step as a worker cuts them. */
    const cut = (run: typeof first, sequence: number, parts: number[], complete: boolean) => [
      ...parts.flatMap((i) => run.map((w) => w.part(sequence, i))),
      ...(complete ? run.map((w) => w.segment(sequence)) : []),
    ];
    const all = [0, 1, 2, 3, 4, 5];
    await producer.publish(bus.topic('mediaSegments'), [
      ll,
      ...cut(first, 0, all, true),
      ...cut(first, 1, all, true),
      ...cut(first, 2, [0, 1], false),
    ]);
    const listed = (name: string, uri: string) => read(id, name).includes(`"${uri}"`);
    await waitFor('part 2.1 listed in both', () => renditions.every((r) => listed(`${r}.m3u8`, `${r}/000002.1.m4s`)));

    const before = assertLlHls(read(id, '360p.m3u8'));
    assert.equal(before.version, 9);
    assert.equal(before.partTarget, 0.334);
    assert.deepEqual(
      before.segments.map((s) => [s.msn, s.parts.length, s.duration]),
      [
        [0, 6, 2],
        [1, 6, 2],
        [2, 2, null],
      ],
    );
    assert.equal(before.segments[0]!.map, '360p/init-000000.mp4');
    assert.deepEqual(before.preloadHint, { type: 'PART', uri: '360p/000002.2.m4s' });
    assert.deepEqual(before.renditionReports, [{ uri: '160p.m3u8', lastMsn: 2, lastPart: 1 }]);
    assert.deepEqual(assertLlHls(read(id, '160p.m3u8')).renditionReports, [
      { uri: '360p.m3u8', lastMsn: 2, lastPart: 1 },
    ]);
    assert.match(read(id, 'master.m3u8'), /^#EXTM3U\n#EXT-X-VERSION:9\n/);

    // The worker restarts in the middle of segment 2: the new run begins at 3 with its own init.
    const second = renditions.map((r) => cmaf(id, r, 3));
    await producer.publish(bus.topic('mediaSegments'), [
      ...cut(second, 3, [0, 1], false),
      second[0]!.part(3, 2, { uri: '360p/000003.9.m4s' }),
    ]);
    await waitFor('part 3.1 listed in both', () => renditions.every((r) => listed(`${r}.m3u8`, `${r}/000003.1.m4s`)));
    const restarted = assertLlHls(read(id, '360p.m3u8'));
    assert.deepEqual(reloadProblems(before, restarted), []);
    assert.equal(restarted.mediaSequence, 3, 'segment 2 never completes: the window restarts at 3');
    assert.match(read(id, '360p.m3u8'), /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="360p\/init-000003.mp4"\n/);
    assert.deepEqual(restarted.preloadHint, { type: 'PART', uri: '360p/000003.2.m4s' });

    await producer.publish(bus.topic('mediaSegments'), [
      ...cut(second, 3, [2, 3, 4, 5], true),
      ...cut(second, 4, [0], false),
    ]);
    await waitFor('part 4.0 listed', () => listed('360p.m3u8', '360p/000004.0.m4s'));
    const after = assertLlHls(read(id, '360p.m3u8'));
    assert.deepEqual(reloadProblems(restarted, after), []);
    assert.equal(after.segments[0]!.parts.length, 6);
    assert.match(
      await bus.metrics.registry.getSingleMetricAsString('live_events_dead_lettered_total'),
      /reason="invalid"[^\n]* 2$/m,
      'the part named after another index',
    );
    assert.match(
      await bus.metrics.registry.getSingleMetricAsString('live_packager_part_listed_delay_seconds'),
      /_count{[^}]*} [1-9]/,
    );

    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.ended(id)]);
    await waitFor('the VOD', () => read(id, 'vod.m3u8').includes('360p.vod.m3u8'));
    const ended = assertLlHls(read(id, '360p.m3u8'));
    assert.equal(ended.ended, true);
    assert.equal(ended.preloadHint, null);
    assert.deepEqual(reloadProblems(after, ended), []);
    const vod = read(id, '360p.vod.m3u8');
    assert.deepEqual(validateMediaPlaylist(vod).problems, []);
    assert.match(vod, /^#EXTM3U\n#EXT-X-VERSION:9\n/);
    assert.match(vod, /#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI="360p\/init-000000.mp4"\n/);
    assert.match(vod, /360p\/000001.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="360p\/init-000003.mp4"\n/);
    assert.doesNotMatch(vod, /EXT-X-PART|000002/);
    assert.match(read(id, 'vod.m3u8'), /^#EXTM3U\n#EXT-X-VERSION:9\n/);
  });

  it('a rebuild from the topics writes the same playlists and state as the live packager', async () => {
    const live = await waitFor('the live packager caught up', async () => {
      const d = await dumpPlaylists(root);
      return d.size > 0 && d;
    });
    const apart = mkdtempSync(join(tmpdir(), 'packager-rebuild-'));
    try {
      const again = new EventBus(bus.config, new Metrics('rebuild', { defaults: false }), log);
      await again.init(['mediaSegments', 'streamLifecycle']);
      await rebuildApart(again, apart, {});
      assert.deepEqual(compareDumps(await dumpPlaylists(root), await dumpPlaylists(apart)), []);
      assert.ok(live.size >= 8, `dumped ${[...live.keys()].join(', ')}`);
    } finally {
      rmSync(apart, { recursive: true, force: true });
    }
  });

  it('deletes the media of an ended stream that was not recorded, and of a deleted recording, each after its keep time; leaves a recorded one alone', async () => {
    const off = uniqueName('norec');
    const on = uniqueName('rec');
    const gone = uniqueName('deleted');
    for (const id of [off, on, gone]) {
      await producer.publish(bus.topic('streamLifecycle'), [
        streamEvents.created(id, { recordingEnabled: id !== off }),
        streamEvents.wentLive(id, T0),
      ]);
      await producer.publish(bus.topic('mediaSegments'), [ladder(id), segment(id, '360p', 0), segment(id, '360p', 1)]);
      await waitFor(`${id} listed`, () => read(id, '360p.m3u8').includes('000001.ts'));
    }
    let now = Date.now();
    const retention = new UnrecordedMediaRetention(
      new PackagerStorage(root, root),
      log,
      new Metrics('retention', { defaults: false }),
      { keepMs: 60_000, deletedKeepMs: 3_600_000, everyMs: 3_600_000, clock: () => now },
    );
    assert.deepEqual(await retention.sweep(), [], 'a live stream keeps its media');

    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.ended(off),
      streamEvents.ended(on),
      streamEvents.ended(gone),
    ]);
    const saved = (id: string) => {
      const text = read(id, '.packager/state.json');
      return text === '' ? undefined : (JSON.parse(text) as { status: string; deletedAt: number | null });
    };
    const ended = (id: string) => saved(id)?.status === 'ended';
    await waitFor('all ended', () => ended(off) && ended(on) && ended(gone) && read(gone, 'vod.m3u8') !== '');
    // The streamer deletes the recording (the API's VodDeleted).
    await bus.init(['vodDeletions']);
    const deletedAt = Date.now();
    await producer.publish(bus.topic('vodDeletions'), [
      { eventId: randomUUID(), occurredAt: deletedAt, streamId: gone, streamerId: 'user_1', deletedBy: 'user_1' },
    ]);
    await waitFor('the deletion applied', () => saved(gone)?.deletedAt === deletedAt);
    now = Date.now() + 50_000;
    assert.deepEqual(await retention.sweep(), [], 'players that were behind may still finish');
    assert.equal((await fetch(url(off, '360p/000001.ts'))).status, 200);

    now = Date.now() + 70_000;
    assert.deepEqual(await retention.sweep(), [off], 'a deleted recording stays for its grace period');
    assert.ok(existsSync(file(gone, 'vod.m3u8')));
    for (const name of ['master.m3u8', '360p.m3u8', '360p/000000.ts', '360p/000001.ts', '360p'])
      assert.equal(existsSync(file(off, name)), false, `${name} deleted`);
    assert.ok(ended(off), "the packager's state stays: the stream is known to have ended");
    assert.equal((await fetch(url(off, 'master.m3u8'))).status, 404);
    assert.equal((await fetch(url(off, '360p/000001.ts'))).status, 404);
    for (const name of ['vod.m3u8', '360p.vod.m3u8', '360p/000000.ts', 'master.m3u8'])
      assert.ok(existsSync(file(on, name)), `the recorded stream keeps ${name}`);
    assert.deepEqual(await retention.sweep(), [], 'nothing left to delete');
    now = deletedAt + 3_600_000;
    assert.deepEqual(await retention.sweep(), [gone], 'the grace period is over');
    for (const name of ['vod.m3u8', '360p.vod.m3u8', '360p/000000.ts', 'master.m3u8'])
      assert.equal(existsSync(file(gone, name)), false, `${name} deleted`);
    assert.ok(saved(gone)?.deletedAt === deletedAt, "the packager's state stays: no VOD is written again");
    for (const name of ['vod.m3u8', '360p/000000.ts'])
      assert.ok(existsSync(file(on, name)), `the recorded stream still keeps ${name}`);

    // A rebuild deletes what the retention deleted, so it still equals the live media root.
    const apart = mkdtempSync(join(tmpdir(), 'packager-rebuild-'));
    try {
      const again = new EventBus(bus.config, new Metrics('rebuild-r', { defaults: false }), log);
      await again.init(['mediaSegments', 'streamLifecycle', 'vodDeletions']);
      await rebuildApart(again, apart, { PACKAGER_UNRECORDED_KEEP_S: '0', PACKAGER_DELETED_KEEP_S: '0' });
      const rebuilt = await dumpPlaylists(apart);
      assert.ok(rebuilt.has(`${off}/.packager/state.json`) && !rebuilt.has(`${off}/master.m3u8`));
      assert.ok(rebuilt.has(`${gone}/.packager/state.json`) && !rebuilt.has(`${gone}/vod.m3u8`));
      assert.deepEqual(compareDumps(await dumpPlaylists(root), rebuilt), []);
    } finally {
      rmSync(apart, { recursive: true, force: true });
    }
  });
});
