import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { ConfigError } from '../../platform/config.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { testBus } from '../../tests/support/bus.ts';
import { newStream, startIngest } from '../../tests/support/ingest.ts';
import { collect, publishTestPattern } from '../../tests/support/media.ts';
import type { ServiceProcess } from '../../tests/support/process.ts';
import { RtmpTestClient, command } from '../../tests/support/rtmp-client.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { loadIngestConfig, rtmpsListener } from './config.ts';

/** A self-signed certificate for 127.0.0.1, made with the machine's openssl. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

describe('RTMPS ingest: TLS terminated in Node, a real ffmpeg publishing over rtmps://', () => {
  let dir: string;
  let tls: { cert: string; key: string };
  let bus: EventBus;
  let producer: EventProducer;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  let ingest: ServiceProcess;
  let port: number;
  let tlsPort: number;
  const stream = newStream();
  const of = (type: string) => (e: StreamLifecycleEvent) => e.streamId === stream.streamId && e.payload.type === type;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingest-rtmps-'));
    tls = selfSigned(dir, 'ingest');
    bus = testBus('ingest-rtmps');
    await bus.init(['streamLifecycle']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [stream.created]);
    lifecycle = await collect(bus, 'streamLifecycle');
    const started = await startIngest(bus, {
      INGEST_RTMPS_PORT: '0',
      INGEST_TLS_CERT_FILE: tls.cert,
      INGEST_TLS_KEY_FILE: tls.key,
    });
    ({ proc: ingest, port } = started);
    tlsPort = started.tlsPort!;
  });

  after(async () => {
    await ingest?.kill('SIGTERM');
    await lifecycle?.stop();
    await producer?.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ffmpeg publishes to rtmps://127.0.0.1:<port>/live/<key> with a self-signed certificate; the stream goes live and ends', async () => {
    const pub = publishTestPattern(`rtmps://127.0.0.1:${tlsPort}/live/${stream.key}`, { size: '320x240', fps: 15 });
    const live = await waitFor('StreamWentLive', () => lifecycle.events.find(of('StreamWentLive')), 60_000);
    assert.ok(live.payload.type === 'StreamWentLive');
    assert.equal(live.payload.width, 320, 'probed through the internal pull URL');
    // Workers still pull plain RTMP on loopback; the TLS port is for encoders.
    assert.equal(live.payload.sourceUrl, `rtmp://127.0.0.1:${port}/live/${stream.streamId}`);
    assert.ok(
      ingest.logs.some(
        (l) => l.msg === 'publish accepted' && l.streamId === stream.streamId && l.remoteAddress === '127.0.0.1',
      ),
    );
    pub.proc.kill('SIGINT');
    const ended = await waitFor('StreamEnded', () => lifecycle.events.find(of('StreamEnded')), 60_000);
    assert.deepEqual(ended.payload, { type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null });
  });

  it('speaks only TLS on the RTMPS port: a plain RTMP handshake gets no RTMP answer', async () => {
    const c = await RtmpTestClient.open(tlsPort);
    await c.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 1)]));
    await c.serverCloses();
    assert.ok(c.received.length < 3073 && c.received[0] !== 3, 'no S0+S1+S2');
    assert.ok(ingest.running);
  });

  it('sees an RTMPS peer by its own address: a public one is refused a pull like on plain RTMP', async () => {
    const refused = waitFor('the refusal', () =>
      ingest.logs.some((l) => l.msg === 'rtmp command refused' && l.command === 'play' && l.remote === '127.0.0.2'),
    );
    const c = await RtmpTestClient.open(tlsPort, { tls: true, localAddress: '127.0.0.2' });
    assert.ok(await c.handshake(), 'RTMP handshake over TLS');
    await c.write(
      Buffer.concat([
        command('connect', 1, [{ app: 'live' }]),
        command('createStream', 2, [null]),
        command('play', 3, [null, stream.streamId], { csid: 8, streamId: 1 }),
      ]),
    );
    await c.serverCloses();
    await refused;
    assert.ok(!c.text().includes('NetStream.Play'));
  });
});

describe('RTMPS configuration', () => {
  let dir: string;
  let a: { cert: string; key: string };
  let b: { cert: string; key: string };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingest-rtmps-config-'));
    a = selfSigned(dir, 'a');
    b = selfSigned(dir, 'b');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const problems = (env: Record<string, string>): string[] => {
    try {
      loadIngestConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('is off unless asked for, and on with a port, a certificate and its key', () => {
    assert.equal(rtmpsListener(loadIngestConfig({})), null);
    const on = rtmpsListener(
      loadIngestConfig({ INGEST_RTMPS_PORT: '1936', INGEST_TLS_CERT_FILE: a.cert, INGEST_TLS_KEY_FILE: a.key }),
    );
    assert.equal(on?.port, 1936);
    assert.equal(on?.host, '127.0.0.1');
    assert.match(on!.cert.toString(), /BEGIN CERTIFICATE/);
  });

  it('names a missing or unreadable file, a key that is not the certificate’s, and a half-given pair', () => {
    const port = { INGEST_RTMPS_PORT: '1936' };
    assert.match(
      problems({ ...port, INGEST_TLS_CERT_FILE: join(dir, 'nope.crt'), INGEST_TLS_KEY_FILE: a.key }).join('\n'),
      /INGEST_TLS_CERT_FILE: cannot read .*nope\.crt: ENOENT/,
    );
    assert.match(
      problems({ ...port, INGEST_TLS_CERT_FILE: a.cert, INGEST_TLS_KEY_FILE: dir }).join('\n'),
      /INGEST_TLS_KEY_FILE: cannot read .*: EISDIR/,
    );
    assert.match(
      problems({ ...port, INGEST_TLS_CERT_FILE: a.cert, INGEST_TLS_KEY_FILE: b.key }).join('\n'),
      /INGEST_TLS_CERT_FILE: not a PEM certificate matching INGEST_TLS_KEY_FILE/,
    );
    assert.match(
      problems({ ...port, INGEST_TLS_CERT_FILE: a.key, INGEST_TLS_KEY_FILE: a.key }).join('\n'),
      /not a PEM certificate/,
    );
    assert.match(problems({ ...port, INGEST_TLS_CERT_FILE: a.cert }).join('\n'), /INGEST_TLS_KEY_FILE: required/);
    assert.match(problems({ INGEST_TLS_KEY_FILE: a.key }).join('\n'), /INGEST_RTMPS_PORT: must be set/);
  });
});
