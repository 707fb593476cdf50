import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { probe } from '../../platform/ffmpeg.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { testBus } from '../../tests/support/bus.ts';
import { newStream, startIngest } from '../../tests/support/ingest.ts';
import { collect, publishTestPattern, type Publisher } from '../../tests/support/media.ts';
import type { LogLine, ServiceProcess } from '../../tests/support/process.ts';
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

/** Loopback, but not in ingest's default INGEST_PULL_ALLOW: what a peer on the internet looks like. */
const PUBLIC = '127.0.0.2';

describe('RTMP ingest: what a peer that is not a media worker may do (real ingest, ffmpeg and Kafka)', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  let ingest: ServiceProcess;
  let port: number;
  let victimPublisher: Publisher;
  const victim = newStream();
  /** The attacker's own stream: any streamer has a valid key of their own. */
  const own = newStream();
  const url = (k: string) => `rtmp://127.0.0.1:${port}/live/${k}`;
  const wentLive = (id: string) => (e: StreamLifecycleEvent) =>
    e.streamId === id && e.payload.type === 'StreamWentLive';

  before(async () => {
    bus = testBus('ingest-sec');
    await bus.init(['streamLifecycle']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [victim.created, own.created]);
    lifecycle = await collect(bus, 'streamLifecycle');
    // INGEST_RTMP_HOST unset: the default is under test too.
    ({ proc: ingest, port } = await startIngest(bus, { INGEST_AUTH_TIMEOUT_MS: '3000', INGEST_RTMP_HOST: undefined }));
    victimPublisher = publishTestPattern(url(victim.key), { size: '320x240', fps: 15 });
    await waitFor('the victim stream live', () => lifecycle.events.find(wentLive(victim.streamId)), 60_000);
  });

  after(async () => {
    victimPublisher?.proc.kill('SIGKILL');
    await ingest?.kill('SIGTERM');
    await lifecycle?.stop();
    await producer?.disconnect();
  });

  /** Marks how many log lines match now; the function it returns waits for one more. */
  const nextLog = (what: string, match: (l: LogLine) => boolean) => {
    const seen = ingest.logs.filter(match).length;
    return () => waitFor(what, () => ingest.logs.filter(match).length > seen, 30_000);
  };

  const publicSession = async (publishOwnFirst: boolean): Promise<RtmpTestClient> => {
    const c = await RtmpTestClient.open(port, { localAddress: PUBLIC });
    assert.ok(await c.handshake(), 'handshake');
    if (publishOwnFirst) assert.ok(await c.publish(own.key), `own publish accepted:\n${ingest.tail()}`);
    else await c.write(Buffer.concat([command('connect', 1, [{ app: 'live' }]), command('createStream', 2, [null])]));
    return c;
  };

  const assertNothingHandedOut = (c: RtmpTestClient) => {
    const media = c.messages().filter((m) => MEDIA_TYPES.has(m.type));
    assert.equal(media.length, 0, `${media.length} audio/video messages handed out`);
    assert.ok(!c.text().includes('NetStream.Play'), 'no play answer');
  };

  it('a media worker on loopback still pulls the live source', async () => {
    const live = lifecycle.events.find(wentLive(victim.streamId))!;
    assert.ok(live.payload.type === 'StreamWentLive' && live.payload.width === 320, 'ingest probed its own pull URL');
    const source = await probe(`rtmp://127.0.0.1:${port}/live/${victim.streamId}`, 8);
    assert.equal(source.width, 320);
    // Neither ffmpeg publishing nor ffprobe pulling sends a command the policy refuses.
    const refused = ingest.logs.filter((l) => l.msg === 'rtmp command refused' || l.msg === 'rtmp pull refused');
    assert.deepEqual(refused, []);
  });

  it("listens on loopback unless told otherwise: not on this machine's other addresses", async () => {
    assert.ok(
      ingest.logs.some((l) => l.msg === 'rtmp listening' && l.host === '127.0.0.1'),
      'bound to 127.0.0.1',
    );
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && !i.internal && i.family === 'IPv4')
      .map((i) => i!.address);
    for (const address of external) {
      const outcome = await new Promise<string>((resolve) => {
        const s = connect({ host: address, port }, () => resolve('connected'));
        s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        s.on('connect', () => s.destroy());
      });
      assert.equal(outcome, 'ECONNREFUSED', `ingest reachable on ${address}:${port}`);
    }
  });

  const onStream = { csid: 8, streamId: 1 };
  const cases: Array<{ what: string; publishOwnFirst: boolean; name: string; args: Amf[] }> = [
    { what: 'play of a live stream', publishOwnFirst: false, name: 'play', args: [null, 'x'] },
    // The library's seek on a live stream re-enters play with the name in the command.
    {
      what: 'seek naming a live stream, on its own published stream',
      publishOwnFirst: true,
      name: 'seek',
      args: [null, 'x'],
    },
    { what: 'seek without a stream', publishOwnFirst: false, name: 'seek', args: [null, 'x'] },
    // pause(false) resumes by playing the session's stream.
    {
      what: 'pause to resume, on its own published stream',
      publishOwnFirst: true,
      name: 'pause',
      args: [null, false, 0],
    },
    { what: 'receiveVideo', publishOwnFirst: false, name: 'receiveVideo', args: [null, true] },
    { what: 'receiveAudio', publishOwnFirst: false, name: 'receiveAudio', args: [null, true] },
    { what: 'FCSubscribe', publishOwnFirst: false, name: 'FCSubscribe', args: [null, 'x'] },
    { what: 'getStreamLength', publishOwnFirst: false, name: 'getStreamLength', args: [null, 'x'] },
    { what: 'a command nobody sends', publishOwnFirst: false, name: 'secretBackdoor', args: [null] },
  ];
  for (const c of cases) {
    it(`refuses a public peer's ${c.what} and closes its session, handing out nothing`, async () => {
      const args = c.args.map((a) => (a === 'x' ? victim.streamId : a));
      const refused = nextLog(
        'the refusal',
        (l) => l.msg === 'rtmp command refused' && l.command === c.name && l.remote === PUBLIC,
      );
      const client = await publicSession(c.publishOwnFirst);
      await client.write(command(c.name, 6, args, onStream));
      await client.serverCloses();
      assertNothingHandedOut(client);
      await refused();
      assert.ok(ingest.running);
    });
  }

  it('refuses a connect to any application but live', async () => {
    const refused = nextLog('the refusal', (l) => l.msg === 'rtmp command refused' && l.command === 'connect');
    const c = await RtmpTestClient.open(port, { localAddress: PUBLIC });
    assert.ok(await c.handshake());
    await c.write(command('connect', 1, [{ app: 'file' }]));
    await c.serverCloses();
    await refused();
    assert.ok(!c.text().includes('NetConnection.Connect.Success'));
  });

  /** Writes in socket-sized pieces until the server closes the connection or all of it is sent. */
  const pour = async (c: RtmpTestClient, data: Buffer) => {
    for (let at = 0; at < data.length && !c.isClosed; at += 64 * 1024) await c.write(data.subarray(at, at + 64 * 1024));
  };
  const bufferCases: Array<{ what: string; reason: string; bytes: () => Buffer }> = [
    {
      what: 'a message header declaring 16 MiB',
      reason: 'message_too_large',
      bytes: () => chunks(randomBytes(4 * 1024 * 1024), { csid: 4, type: 20, declaredLength: 0xffffff }),
    },
    {
      what: 'one chunk as large as the peer likes (Set Chunk Size 2^31-1)',
      reason: 'session_buffer_full',
      bytes: () =>
        Buffer.concat([
          setChunkSize(0x7fffffff),
          chunks(randomBytes(4 * 1024 * 1024), { csid: 4, type: 20, declaredLength: 0xffffff, chunkSize: 0x7fffffff }),
        ]),
    },
    {
      what: 'dozens of chunk streams each holding part of a message',
      reason: 'too_many_chunk_streams',
      bytes: () =>
        Buffer.concat(
          Array.from({ length: 40 }, (_, i) =>
            chunks(randomBytes(128), { csid: 10 + i, type: 20, declaredLength: 1000 }),
          ),
        ),
    },
    {
      what: 'a chunk size of 0',
      reason: 'bad_chunk_size',
      bytes: () => Buffer.concat([setChunkSize(0), command('connect', 1, [{ app: 'live' }])]),
    },
  ];
  for (const b of bufferCases) {
    it(`closes an unauthenticated session that sends ${b.what}, and carries on`, async () => {
      const over = nextLog(
        'the buffer refusal',
        (l) => l.msg === 'rtmp session over its buffer limit; closing' && l.reason === b.reason,
      );
      const c = await RtmpTestClient.open(port, { localAddress: PUBLIC });
      assert.ok(await c.handshake());
      await pour(c, b.bytes());
      await c.serverCloses();
      await over();
      assert.ok(ingest.running, `ingest died:\n${ingest.tail()}`);
    });
  }

  it('lets a publisher, once its key is accepted, send a message larger than the unauthenticated limit', async () => {
    const c = await publicSession(true);
    const pad = 'x'.repeat(60_000);
    const meta: Record<string, Amf> = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`pad${i}`, pad]));
    const big = Buffer.concat([amf0('@setDataFrame'), amf0('onMetaData'), amf0(meta)]);
    assert.ok(big.length > 512 * 1024);
    const answers = () => c.text().split('_result').length;
    const before = answers();
    await c.write(
      Buffer.concat([
        setChunkSize(65_536),
        chunks(big, { csid: 4, type: 18, streamId: 1, chunkSize: 65_536 }),
        command('createStream', 9, [null]),
      ]),
    );
    assert.ok(await c.until(() => answers() > before), 'the command after the big message was answered');
    assert.ok(!c.isClosed);
    c.destroy();
  });

  it('closes a session that has not published within INGEST_AUTH_TIMEOUT_MS, however slowly it keeps sending', async () => {
    const late = nextLog('the deadline', (l) => l.msg === 'rtmp session did not publish in time; closing');
    const c = await RtmpTestClient.open(port, { localAddress: PUBLIC });
    await c.write(Buffer.from([3]));
    // A byte of C1 now and then: enough to keep the library's inactivity timer from ever firing.
    const trickle = setInterval(() => void c.write(randomBytes(1)), 200);
    try {
      await c.serverCloses(60_000);
    } finally {
      clearInterval(trickle);
    }
    await late();
  });

  it('a handshake whose Diffie-Hellman key is zero closes that session, not the process', async () => {
    const badData = (l: LogLine) => l.msg === 'bad RTMP data; closing';
    const bad = nextLog('the handshake failure', badData);
    const c = await RtmpTestClient.open(port, { localAddress: PUBLIC });
    await c.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
    await c.serverCloses();
    await waitFor('the session failed, or the process', () => !ingest.running || ingest.logs.some(badData));
    assert.ok(ingest.running, `ingest died:\n${ingest.tail()}`);
    await bad();
    const next = await RtmpTestClient.open(port, { localAddress: PUBLIC });
    assert.ok(await next.handshake(), 'ingest still answers handshakes');
    next.destroy();
  });
});
