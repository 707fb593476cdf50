import assert from 'node:assert/strict';
import { startOrigin } from './support/origin.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaTools } from './support/hls.ts';
import { freePort } from './support/ports.ts';
import { waitFor } from './support/wait.ts';
import { llhlsPlaylist, mediaName, publish, streamFiles, type LlhlsPlaylist } from './origin-llhls-fixture.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { OriginServer } from '../gateways/origin/server.ts';
import { EdgeServer } from '../gateways/edge/edge.ts';

/**
 * LL-HLS through the edge (real nginx): every viewer of a stream asks for the same preload-hinted
 * part and the same next playlist version at the same moment, and each is held at the origin
 * until it exists. The edge's collapser must turn those crowds into one origin request each,
 * held ones included, or the origin sees every viewer several times a second; and it must answer
 * them all when the origin does (nginx's cache lock woke its waiters on a 0.5 s timer). How soon
 * after the write the players are answered is reported (`# ...` lines), not asserted: timings on
 * a shared machine are no test.
 */
describe('edge collapses held LL-HLS requests (real nginx)', () => {
  const CLIENTS = 200;
  let root: string;
  let dir: string;
  let origin: OriginServer;
  let edge: EdgeServer;
  const edgeMetrics = new Metrics('edge', { defaults: false });
  const originMetrics = new Metrics('origin', { defaults: false });
  const log = createLogger('edge', process.env.TEST_LOG_LEVEL ?? 'silent');
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'edge-llhls-media-'));
    dir = mkdtempSync(join(tmpdir(), 'edge-llhls-nginx-'));
    origin = await startOrigin(root, { log, metrics: originMetrics });
    edge = new EdgeServer({
      nginx: mediaTools().nginx,
      dir,
      host: '127.0.0.1',
      port: await freePort(),
      name: 'edge-llhls',
      origin: { host: '127.0.0.1', port: origin.port },
      workers: 1,
      cacheMaxSize: '64m',
      log,
      metrics: edgeMetrics,
    });
    await edge.start();
  });
  after(async () => {
    agent.destroy();
    await edge?.stop();
    await origin?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  /** `n` GETs of `path` at once through the edge; resolves once every one has been sent, with their answers. */
  const crowd = async (n: number, path: string) => {
    let sent = 0;
    const answers = Array.from(
      { length: n },
      () =>
        new Promise<{ status: number; cache: string; body: Buffer; at: number }>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: new URL(edge.url).port, path, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                cache: String(res.headers['x-cache-status']),
                body: Buffer.concat(chunks),
                at: performance.now(),
              }),
            );
          });
          req.on('finish', () => sent++);
          req.on('error', reject);
          req.end();
        }),
    );
    await waitFor(`${n} requests sent`, () => sent === n);
    return Promise.all(answers);
  };
  /** Origin requests answered so far, of one kind. */
  const originRequests = async (kind: string): Promise<number> => {
    const text = await originMetrics.registry.getSingleMetricAsString('live_origin_requests_total');
    let n = 0;
    for (const m of text.matchAll(new RegExp(`^live_origin_requests_total\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)`, 'gm')))
      n += Number(m[1]);
    return n;
  };
  /** The collapser's leaders and followers so far. */
  const collapsed = async (): Promise<{ leader: number; follower: number }> => {
    const text = await edgeMetrics.registry.getSingleMetricAsString('live_edge_collapsed_requests_total');
    const n = (role: string) => Number(new RegExp(`role="${role}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
    return { leader: n('leader'), follower: n('follower') };
  };
  const heldAtOrigin = async (): Promise<number> => {
    const text = await originMetrics.registry.getSingleMetricAsString('live_origin_held_requests');
    return [...text.matchAll(/\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  // Parts of 1 s: the origin holds a request for three of them, time enough for every client to arrive.
  const shape: Omit<LlhlsPlaylist, 'complete' | 'open'> = { targetDurationS: 2, partTargetS: 1 };
  const spread = (ats: number[], from: number): string => {
    const ms = ats.map((t) => Math.round(t - from)).sort((a, b) => a - b);
    return `first ${ms[0]} ms, median ${ms[ms.length >> 1]} ms, last ${ms[ms.length - 1]} ms`;
  };

  it(`${CLIENTS} players asking for the preload-hinted part make one origin request, answered once it is written`, async () => {
    const s = streamFiles(root, 'hint');
    publish(s.playlist, llhlsPlaylist({ ...shape, complete: 42, open: 2 })); // hint: 43.2
    // The parts listed before it: the rendition's folder exists, so the origin watches it (a
    // folder that does not exist yet is polled every 250 ms, which would be measured here too).
    for (const p of [0, 1]) publish(s.media(43, p), Buffer.alloc(1000, p));
    const path = s.url(mediaName('720p', 43, 2));
    const before = await originRequests('part');
    const roles = await collapsed();
    const answers = crowd(CLIENTS, path);
    await waitFor('the part held at the origin', async () => (await heldAtOrigin()) === 1);
    await new Promise((r) => setTimeout(r, 200)); // nginx has read every request
    const body = Buffer.alloc(50_000, 3);
    const written = performance.now();
    publish(s.media(43, 2), body);
    const replies = await answers;
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, body);
      assert.ok(r.at > written, 'no player is answered before the part is written');
    }
    assert.equal((await originRequests('part')) - before, 1, 'one origin request for every player');
    const after = await collapsed();
    assert.deepEqual(
      { leader: after.leader - roles.leader, follower: after.follower - roles.follower },
      { leader: 1, follower: CLIENTS - 1 },
      'nginx sent every player to the collapser (no lock), which sent the origin one',
    );
    console.log(
      `# ${CLIENTS} players, 1 origin request for the part; answered after the write: ${spread(
        replies.map((r) => r.at),
        written,
      )}`,
    );
  });

  it(`${CLIENTS} players blocking on the same playlist version make one origin request`, async () => {
    const s = streamFiles(root, 'block');
    publish(s.playlist, llhlsPlaylist({ ...shape, complete: 42, open: 2 }));
    const path = `${s.url('720p.m3u8')}?_HLS_msn=43&_HLS_part=2`;
    const before = await originRequests('playlist');
    const roles = await collapsed();
    const answers = crowd(CLIENTS, path);
    await waitFor('the reload held at the origin', async () => (await heldAtOrigin()) === 1);
    await new Promise((r) => setTimeout(r, 200));
    const listed = performance.now();
    publish(s.playlist, llhlsPlaylist({ ...shape, complete: 42, open: 3 }));
    const replies = await answers;
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /000043\.2\.m4s"/);
      assert.ok(r.at > listed, 'no player is answered before the part is listed');
    }
    assert.equal((await originRequests('playlist')) - before, 1, 'one origin request for every player');
    const after = await collapsed();
    assert.equal(after.leader - roles.leader, 1);
    assert.equal(after.follower - roles.follower, CLIENTS - 1);
    console.log(
      `# ${CLIENTS} players, 1 origin request for the playlist; answered after the update: ${spread(
        replies.map((r) => r.at),
        listed,
      )}`,
    );
    // The next part is a version of its own: not the cached answer for part 2.
    const next = crowd(1, `${s.url('720p.m3u8')}?_HLS_msn=43&_HLS_part=3`);
    publish(s.playlist, llhlsPlaylist({ ...shape, complete: 42, open: 4 }));
    assert.match((await next)[0]!.body.toString(), /000043\.3\.m4s"/);
  });
});
