import assert from 'node:assert/strict';
import { startOrigin } from '../../tests/support/origin.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Metrics } from '../../platform/metrics.ts';
import {
  llhlsPlaylist,
  mediaName,
  publish,
  streamFiles,
  type LlhlsPlaylist,
} from '../../tests/origin-llhls-fixture.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { OriginServer } from './server.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** When the answer arrived (performance.now()). */
  at: number;
}

describe('HLS origin: low-latency HLS (parts, preload hints)', () => {
  let root: string;
  let origin: OriginServer;
  const metrics = new Metrics('origin-llhls', { defaults: false });
  // One socket per held request: a pool would queue requests behind held ones.
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

  const get = (path: string, method = 'GET'): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: origin.port, path, method, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks),
            at: performance.now(),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const metric = async (name: string, labels: string): Promise<number> => {
    const text = await metrics.registry.getSingleMetricAsString(name);
    return Number(new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  };
  const heldReads = async () => ({
    media: await metric('live_origin_held_reads_total', 'what="media"'),
    playlist: await metric('live_origin_held_reads_total', 'what="playlist"'),
  });
  /** A stream whose 720p playlist is `o` (target 1 s, parts of 0.334 s), with every listed part on disk. */
  const stream = (id: string, o: LlhlsPlaylist) => {
    const files = streamFiles(root, id);
    const text = llhlsPlaylist({ targetDurationS: 1, ...o });
    for (const m of text.matchAll(/URI="(720p\/\d+\.\d+\.m4s)"/g)) {
      if (!text.includes(`PRELOAD-HINT:TYPE=PART,URI="${m[1]}"`)) publish(join(root, id, m[1]!), m[1]!);
    }
    publish(files.playlist, text);
    return {
      ...files,
      update: (next: LlhlsPlaylist) => publish(files.playlist, llhlsPlaylist({ targetDurationS: 1, ...next })),
    };
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'origin-llhls-'));
    origin = await startOrigin(root, { metrics });
  });
  after(async () => {
    agent.destroy();
    await origin.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('holds _HLS_msn=M&_HLS_part=P until part P of M is listed; a listed part or a complete segment is served at once', async () => {
    const s = stream('block', { complete: 42, open: 2 }); // parts 43.0, 43.1 listed
    const path = s.url('720p.m3u8');
    const listed = await get(`${path}?_HLS_msn=43&_HLS_part=1`);
    assert.equal(listed.status, 200);
    assert.match(listed.body.toString(), /000043\.1\.m4s/);
    assert.equal((await get(`${path}?_HLS_msn=42&_HLS_part=9`)).status, 200, 'segment 42 is complete');
    const skip = await get(`${path}?_HLS_msn=43&_HLS_part=0&_HLS_skip=YES`);
    assert.equal(skip.status, 200);
    assert.doesNotMatch(skip.body.toString(), /EXT-X-SKIP/, 'no delta update: the whole playlist');

    const t0 = performance.now();
    const next = get(`${path}?_HLS_msn=43&_HLS_part=2`);
    const nextSegment = get(`${path}?_HLS_msn=44&_HLS_part=0`);
    await waitFor('both held', async () => (await metric('live_origin_held_requests', 'what="playlist"')) === 2);
    s.update({ complete: 42, open: 3 });
    const a = await next;
    assert.equal(a.status, 200);
    assert.match(a.body.toString(), /000043\.2\.m4s/);
    assert.equal(a.headers['cache-control'], 'public, max-age=6');
    assert.ok(a.at - t0 >= 0, 'answered once listed');
    s.update({ complete: 43, open: 1 }); // 43 closed at 3 parts, 44.0 listed
    const b = await nextSegment;
    assert.equal(b.status, 200);
    assert.match(b.body.toString(), /000044\.0\.m4s/);
  });

  it('refuses at once a part beyond the advance limit or a segment more than two ahead; _HLS_part alone is 400', async () => {
    const s = stream('far', { complete: 42, open: 2 });
    const path = s.url('720p.m3u8');
    for (const q of ['_HLS_msn=43&_HLS_part=11', '_HLS_msn=44&_HLS_part=9', '_HLS_msn=45&_HLS_part=0', '_HLS_part=2']) {
      const t0 = performance.now();
      const r = await get(`${path}?${q}`);
      assert.equal(r.status, 400, `?${q}: ${r.body.toString()}`);
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.ok(r.at - t0 < 500, `?${q} answered at once`);
    }
  });

  it('holds a request for the preload-hinted part until the worker renames it into place, then serves it immutable', async () => {
    const s = stream('hint', { complete: 42, open: 2 }); // hint: 43.2
    const url = s.url(mediaName('720p', 43, 2));
    const body = Buffer.alloc(4096, 7);
    const readyBefore = await metric('live_origin_media_holds_total', 'result="ready"');
    const held = [get(url), get(url, 'HEAD'), get(s.url(mediaName('720p', 43, 3)))] as const;
    await waitFor('three held', async () => (await metric('live_origin_held_requests', 'what="media"')) === 3);
    const written = performance.now();
    publish(s.media(43, 2), body);
    publish(s.media(43, 3), body);
    const [g, h, next] = await Promise.all(held);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, body);
    assert.equal(g.headers['content-type'], 'video/iso.segment');
    assert.equal(g.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], String(body.length));
    assert.equal(next.status, 200);
    assert.ok(g.at - written < 250, `served ${Math.round(g.at - written)} ms after the rename`);
    assert.equal((await metric('live_origin_media_holds_total', 'result="ready"')) - readyBefore, 3);
    assert.equal(await metric('live_origin_held_requests', 'what="media"'), 0);
  });

  it('answers 404 at once for a part that will never exist, and after three part targets for one that did not come', async () => {
    const s = stream('never', { complete: 42, open: 2 });
    stream('ended', { complete: 42, open: 0, ended: true });
    rmSync(s.media(43, 0));
    for (const url of [
      s.url(mediaName('720p', 43, 0)), // listed, and gone
      s.url(mediaName('720p', 40, 3)), // older than the playlist's last part
      s.url(mediaName('720p', 43, 4)), // three parts beyond the last listed one
      s.url(mediaName('720p', 45)), // a segment after the one in progress
      '/hls/ended/720p/000043.0.m4s', // the stream ended
      '/hls/nobody/720p/000000.0.m4s', // no such playlist
    ]) {
      const t0 = performance.now();
      const r = await get(url);
      assert.equal(r.status, 404, url);
      assert.equal(r.headers['cache-control'], 'no-store', url);
      assert.ok(r.at - t0 < 250, `${url}: ${Math.round(r.at - t0)} ms`);
    }
    const t0 = performance.now();
    const late = await get(s.url(mediaName('720p', 43, 3)));
    assert.equal(late.status, 404);
    const waited = late.at - t0;
    assert.ok(waited >= 990 && waited < 2000, `404 after ${Math.round(waited)} ms: three part targets of 0.334 s`);
  });

  it('a thousand held requests cost one read per change: 500 for the hinted part and 500 for the next playlist', async () => {
    // Parts of 1 s, so that the requests are still held (3 s) when the last of them arrives.
    const s = stream('crowd', { complete: 42, open: 2, partTargetS: 1, targetDurationS: 3 });
    const n = 500;
    const readsBefore = await heldReads();
    const parts = Array.from({ length: n }, () => get(s.url(mediaName('720p', 43, 2))));
    const playlists = Array.from({ length: n }, () => get(`${s.url('720p.m3u8')}?_HLS_msn=43&_HLS_part=2`));
    const sent = performance.now();
    await waitFor('all held', async () => {
      const media = await metric('live_origin_held_requests', 'what="media"');
      const playlist = await metric('live_origin_held_requests', 'what="playlist"');
      return media === n && playlist === n;
    });
    const readsHolding = await heldReads();
    const t0 = performance.now();
    publish(s.media(43, 2), Buffer.alloc(20_000, 1));
    s.update({ complete: 42, open: 3, partTargetS: 1, targetDurationS: 3 });
    const [p, l] = [await Promise.all(parts), await Promise.all(playlists)];
    const last = Math.max(...p.map((r) => r.at), ...l.map((r) => r.at)) - t0;
    for (const r of [...p, ...l]) assert.equal(r.status, 200);
    const reads = await heldReads();
    console.log(
      `# ${2 * n} held requests: all held ${Math.round(t0 - sent)} ms after they were sent, all answered ${Math.round(last)} ms after the writes; ` +
        `reads while they were being held: ${readsHolding.media - readsBefore.media} stats, ${readsHolding.playlist - readsBefore.playlist} playlist reads; ` +
        `after the writes: ${reads.media - readsHolding.media} stats, ${reads.playlist - readsHolding.playlist} playlist reads`,
    );
    // Reads come from changes and the poll (every 250 ms), never from the number of requests.
    const arriving = readsHolding.media - readsBefore.media + readsHolding.playlist - readsBefore.playlist;
    assert.ok(arriving < n / 10, `${arriving} reads while ${2 * n} requests arrived`);
    assert.ok(reads.media - readsHolding.media <= 4, `${reads.media - readsHolding.media} stats for one rename`);
    assert.ok(
      reads.playlist - readsHolding.playlist <= 4,
      `${reads.playlist - readsHolding.playlist} reads for one rename`,
    );
  });
});
