import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { testBus } from '../../tests/support/bus.ts';
import { newStream, startIngest } from '../../tests/support/ingest.ts';
import { collect, publishTestPattern } from '../../tests/support/media.ts';
import type { ServiceProcess } from '../../tests/support/process.ts';
import {
  MEDIA_TYPES,
  RtmpTestClient,
  amf0,
  chunks,
  command,
  setChunkSize,
  type Amf,
} from '../../tests/support/rtmp-client.ts';
import { waitFor } from '../../tests/support/wait.ts';

/**
 * A bounded fuzz pass over the real ingest on loopback: a few hundred connections of random and
 * mutated handshakes, chunks and commands, from a "public" peer (127.0.0.2) and from an allowed
 * puller (127.0.0.1), none with a valid key. Ingest must stay up, close every one of them, answer
 * no play and hand out no media, announce nothing, and still take a real ffmpeg publish after.
 * FUZZ_SEED replays a run (the seed is printed); FUZZ_CASES changes the count.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
const PARALLEL = 6;

/** mulberry32: small, seeded, good enough to pick bytes. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}
type Gen = ReturnType<typeof generator>;

const COMMANDS = [
  'connect',
  'releaseStream',
  'FCPublish',
  'createStream',
  'publish',
  'play',
  'play2',
  'seek',
  'pause',
  'pauseRaw',
  'receiveAudio',
  'receiveVideo',
  'FCSubscribe',
  'getStreamLength',
  'deleteStream',
  'closeStream',
  'FCUnpublish',
  '_checkbw',
  '_result',
  'onStatus',
] as const;

describe(`RTMP ingest under a bounded fuzz pass (${CASES} connections, FUZZ_SEED=${SEED})`, () => {
  let bus: EventBus;
  let producer: EventProducer;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  let ingest: ServiceProcess;
  let port: number;
  const stream = newStream();
  const names = [stream.streamId, `live/${stream.streamId}`, '../file/x', '', 'x'.repeat(300)];

  before(async () => {
    bus = testBus('ingest-fuzz');
    await bus.init(['streamLifecycle']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [stream.created]);
    lifecycle = await collect(bus, 'streamLifecycle');
    ({ proc: ingest, port } = await startIngest(bus, { INGEST_AUTH_TIMEOUT_MS: '5000' }));
  });

  after(async () => {
    await ingest?.kill('SIGTERM');
    await lifecycle?.stop();
    await producer?.disconnect();
  });

  const amfValue = (g: Gen, depth = 0): Amf => {
    switch (g.int(depth > 1 ? 5 : 6)) {
      case 0:
        return g.pick([0, -1, 1e308, NaN, 2 ** 53, g.next() * 1e6]);
      case 1:
        return g.next() < 0.5;
      case 2:
        return g.pick([
          ...names,
          'live',
          'file',
          `live_${g.bytes(8).toString('hex')}`,
          g.bytes(g.int(40)).toString('latin1'),
        ]);
      case 3:
      case 4:
        return null;
      default:
        return Object.fromEntries(
          Array.from({ length: g.int(4) }, () => [
            g.pick(['app', 'tcUrl', 'objectEncoding', 'type', g.bytes(4).toString('hex')]),
            amfValue(g, depth + 1),
          ]),
        );
    }
  };

  const message = (g: Gen, chunkSize: number): Buffer => {
    const o = { csid: g.pick([2, 3, 4, 5, 6, 8, 63, g.int(64)]), chunkSize, streamId: g.int(3) };
    switch (g.int(9)) {
      case 0:
      case 1:
      case 2: {
        const name = g.next() < 0.9 ? g.pick(COMMANDS) : g.bytes(g.int(20)).toString('latin1');
        const args =
          name === 'connect' ? [{ app: g.pick(['live', 'live/', 'file', '', g.bytes(3).toString('hex')]) }] : [];
        return command(name, g.int(10), [...args, ...Array.from({ length: g.int(4) }, () => amfValue(g))], o);
      }
      case 3:
        return setChunkSize(g.pick([0, 1, 128, 4096, 65_536, 0x7fffffff, 0xffffffff, g.int(2 ** 31)]));
      case 4: // audio or video: an FLV tag body, sometimes a plausible AVC/AAC header
        return chunks(
          Buffer.concat([
            Buffer.from(
              g.pick([
                [0x17, 0x00],
                [0x17, 0x01],
                [0xaf, 0x00],
                [0xaf, 0x01],
                [0x27, 0x02],
              ]),
            ),
            g.bytes(g.int(600)),
          ]),
          { ...o, type: g.pick([8, 9]) },
        );
      case 5:
        return chunks(Buffer.concat([amf0('@setDataFrame'), amf0(g.pick(['onMetaData', 'x'])), amf0(amfValue(g))]), {
          ...o,
          type: 18,
        });
      case 6: // control messages: abort, ack, user control, window ack, peer bandwidth
        return chunks(g.bytes(g.pick([0, 2, 4, 6, 10])), { ...o, csid: 2, type: g.pick([2, 3, 4, 5, 6]) });
      case 7: // AMF3 command / data, or a type nobody defined
        return chunks(Buffer.concat([Buffer.from([0]), amf0(g.pick(COMMANDS)), amf0(1), amf0(amfValue(g))]), {
          ...o,
          type: g.pick([15, 17, 22, g.int(256)]),
        });
      default: // a header promising more than follows, or far more than is allowed
        return chunks(g.bytes(g.int(300)), {
          ...o,
          type: g.int(32),
          declaredLength: g.pick([g.int(2 ** 24), 0xffffff, 0]),
        });
    }
  };

  const mutate = (g: Gen, data: Buffer): Buffer => {
    if (data.length === 0 || g.next() < 0.5) return data;
    const out = Buffer.from(data);
    switch (g.int(4)) {
      case 0:
        for (let i = 0; i < 1 + g.int(8); i++) out[g.int(out.length)]! ^= 1 << g.int(8);
        return out;
      case 1:
        return out.subarray(0, g.int(out.length));
      case 2: {
        const at = g.int(out.length);
        return Buffer.concat([out.subarray(0, at), g.bytes(1 + g.int(64)), out.subarray(at)]);
      }
      default: {
        const at = g.int(out.length);
        return Buffer.concat([out, out.subarray(at, at + 1 + g.int(256))]);
      }
    }
  };

  /** One connection: what it sends, whether it handshakes properly first. */
  const fuzzCase = async (g: Gen): Promise<RtmpTestClient> => {
    const c = await RtmpTestClient.open(port, { localAddress: g.next() < 0.8 ? '127.0.0.2' : '127.0.0.1' });
    const kind = g.int(10);
    if (kind === 0) {
      await c.write(g.bytes(g.int(3000)));
    } else if (kind <= 2) {
      const c1 = g.pick([Buffer.alloc(1536), Buffer.alloc(1536, 0xff), g.bytes(1536)]);
      const c0c1 = Buffer.concat([Buffer.from([g.pick([3, 6, g.int(256)])]), c1]);
      await c.write(mutate(g, Buffer.concat([c0c1, g.bytes(g.pick([0, 1536, g.int(4000)]))])));
    } else if (await c.handshake()) {
      let stream: Buffer = Buffer.concat(
        kind <= 5
          ? Array.from({ length: 1 + g.int(8) }, () => message(g, 128))
          : [
              command('connect', 1, [{ app: 'live' }]),
              command('createStream', 2, [null]),
              command('publish', 3, [null, g.pick([`live_${g.bytes(32).toString('base64url')}`, ...names]), 'live'], {
                csid: 8,
                streamId: 1,
              }),
              ...Array.from({ length: g.int(6) }, () => message(g, 128)),
            ],
      );
      stream = mutate(g, stream);
      for (let at = 0; at < stream.length;) {
        const n = 1 + g.int(stream.length - at);
        await c.write(stream.subarray(at, at + n));
        at += n;
      }
    }
    // Half-close: the server reads what was sent, then closes; nothing waits on a clock.
    c.socket.end();
    await c.serverCloses(30_000);
    return c;
  };

  it('stays up, closes every connection, accepts no publish and hands out nothing', async (t) => {
    t.diagnostic(`FUZZ_SEED=${SEED}`);
    const master = generator(SEED);
    const clients: RtmpTestClient[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < CASES) {
          const g = generator(master.int(2 ** 31) + next++);
          clients.push(await fuzzCase(g));
          assert.ok(ingest.running, `ingest died (FUZZ_SEED=${SEED}):\n${ingest.tail(40)}`);
        }
      }),
    );
    assert.equal(clients.length, CASES);
    for (const c of clients) {
      const text = c.text();
      assert.ok(!text.includes('NetStream.Play') && !text.includes('NetStream.Publish.Start'), `FUZZ_SEED=${SEED}`);
      if (c.received.length > 3073) {
        assert.deepEqual(
          c.messages().filter((m) => MEDIA_TYPES.has(m.type)),
          [],
        );
      }
    }
    assert.ok(ingest.running);
    assert.ok(!ingest.logs.some((l) => l.msg === 'publish accepted' || l.msg === 'stream went live'));
    const reasons = new Map<string, number>();
    for (const l of ingest.logs) if (l.level === 'warn') reasons.set(l.msg!, (reasons.get(l.msg!) ?? 0) + 1);
    t.diagnostic(JSON.stringify(Object.fromEntries(reasons)));
  });

  it('then takes a real ffmpeg publish with the valid key, as before', async () => {
    const wentLive = (e: StreamLifecycleEvent) => e.payload.type === 'StreamWentLive';
    assert.equal(lifecycle.events.filter(wentLive).length, 0, 'nothing went live during the fuzz pass');
    const pub = publishTestPattern(`rtmp://127.0.0.1:${port}/live/${stream.key}`, { size: '320x240', fps: 15 });
    try {
      const live = await waitFor('StreamWentLive', () => lifecycle.events.find(wentLive), 60_000);
      assert.equal(live.streamId, stream.streamId);
      assert.ok(live.payload.type === 'StreamWentLive' && live.payload.width === 320);
    } finally {
      pub.proc.kill('SIGINT');
      await pub.exited;
    }
    await waitFor('StreamEnded', () => lifecycle.events.find((e) => e.payload.type === 'StreamEnded'), 60_000);
  });
});
