import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { TopicKey } from '../../schemas/topics.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { testSourceArgs } from '../../media/test-source.ts';
import { uniqueName } from './isolation.ts';
import { ServiceProcess } from './process.ts';
import { streamEvents } from './stream-events.ts';

/**
 * Media test helpers: a real ffmpeg publisher (test pattern + tone, small and slow enough for a
 * 2-core box) and a decoded reader of a topic.
 */
export interface Publisher {
  proc: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

export function publishTestPattern(
  url: string,
  opts: { size?: string; fps?: number; audio?: boolean; seconds?: number; gop?: number } = {},
): Publisher {
  const fps = opts.fps ?? 15;
  const args = testSourceArgs(
    {
      size: opts.size ?? '320x240',
      fps,
      tone: opts.audio === false ? null : { sampleRate: 44_100, bitrate: '64k' },
      seconds: opts.seconds,
      live: true,
      gop: opts.gop ?? fps,
      logLevel: 'warning',
    },
    ['-f', 'flv', url],
  );
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, exited, stderr: () => err };
}

/** An audio-only publisher (a 440 Hz tone, AAC, no video track): a source the worker refuses. */
export function publishAudioOnly(url: string): Publisher {
  const args = [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
  ];
  const proc = spawn('ffmpeg', [...args, '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, exited, stderr: () => err };
}

/** Every event on a topic (from the beginning), decoded, as it arrives. */
export async function collect<K extends TopicKey>(
  bus: EventBus,
  key: K,
): Promise<{ events: Array<import('../../schemas/topics.ts').EventOf<K>>; stop: () => Promise<void> }> {
  const events: Array<import('../../schemas/topics.ts').EventOf<K>> = [];
  const consumer: EventConsumer = bus
    .consumer({ groupId: uniqueName(`collect_${key}`), from: 'earliest' })
    .on(bus.topic(key), async (records) => {
      for (const r of records) events.push(r.event);
    });
  const joined = consumer.onceJoined();
  await consumer.start();
  await joined;
  return { events, stop: () => consumer.stop() };
}

/** A created stream that the stream key `key` publishes to (ingest checks the key's hash). */
export async function createStreamWithKey(bus: EventBus, producer: EventProducer, streamId: string, key: string) {
  await producer.publish(bus.topic('streamLifecycle'), [
    streamEvents.created(streamId, { streamKeyHash: createHash('sha256').update(key).digest('hex') }),
  ]);
}

/** RTMP ingest as a real process on a free loopback port, for a spec's publishers. */
export async function startIngest(env: Record<string, string>): Promise<{ ingest: ServiceProcess; port: number }> {
  const ingest = new ServiceProcess('ingest', 'producers/ingest/main.ts', {
    ...env,
    INGEST_RTMP_HOST: '127.0.0.1',
    INGEST_RTMP_PORT: '0',
    NODE_OPTIONS: '--openssl-legacy-provider',
  });
  const port = (await ingest.waitForLog('rtmp', (l) => l.msg === 'rtmp listening', 90_000)).port as number;
  return { ingest, port };
}
