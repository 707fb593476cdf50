import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../../platform/paths.ts';

/**
 * node-rdkafka (librdkafka 2.12 bound for Node) as a client-alone peer of the event-bus bench.
 * It is installed apart, in bench/peers/rdkafka, on the bench's first use: the registry package
 * builds its bundled librdkafka from source (about two minutes on this machine, with the system's
 * OpenSSL, zlib and SASL headers), and the platform's own install should not pay for that.
 * Confluent's @confluentinc/kafka-javascript does not install here: its install script downloads
 * a prebuilt binary from GitHub, then its source fallback downloads zlib, OpenSSL, zstd and curl.
 */
const DIR = join(REPO_ROOT, 'bench/peers/rdkafka');

interface RdMessage {
  value: Buffer | null;
}
interface RdProducer {
  connect(opts: object, cb: (err: Error | null) => void): void;
  on(event: 'delivery-report', cb: (err: Error | null) => void): void;
  on(event: 'event.error', cb: (err: Error) => void): void;
  setPollInterval(ms: number): void;
  produce(topic: string, partition: null, value: Buffer, key: string): void;
  flush(timeoutMs: number, cb: (err: Error | null) => void): void;
  disconnect(cb: () => void): void;
}
interface RdConsumer {
  connect(opts: object, cb: (err: Error | null) => void): void;
  on(event: 'rebalance', cb: (err: { code: number }) => void): void;
  on(event: 'event.error', cb: (err: Error) => void): void;
  subscribe(topics: string[]): void;
  setDefaultConsumeTimeout(ms: number): void;
  consume(n: number, cb: (err: Error | null, messages: RdMessage[]) => void): void;
  disconnect(cb: () => void): void;
}
interface RdKafka {
  Producer: new (conf: object, topicConf?: object) => RdProducer;
  KafkaConsumer: new (conf: object, topicConf?: object) => RdConsumer;
  CODES: { ERRORS: { ERR__ASSIGN_PARTITIONS: number } };
}

/** The binding, installed if need be; a reason instead when it cannot be had. */
export function loadRdkafka(): RdKafka | string {
  try {
    if (!existsSync(join(DIR, 'node_modules/node-rdkafka/build/Release/node-librdkafka.node'))) {
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', DIR], { stdio: 'ignore', timeout: 900_000 });
    }
    return createRequire(join(DIR, 'package.json'))('node-rdkafka') as RdKafka;
  } catch (err) {
    return `node-rdkafka could not be installed or loaded: ${(err as Error).message.split('\n')[0]}`;
  }
}

const common = (brokers: string[]) => ({ 'metadata.broker.list': brokers.join(','), 'client.id': 'bench-rdkafka' });

/**
 * Pre-encoded records through the producer the Java client's defaults describe: idempotent,
 * acks=all, murmur2 keys (Java's partitioner), librdkafka's own batching; first record handed over
 * to the last delivery report. Returns records/s.
 */
export async function rdkafkaProduce(
  rd: RdKafka,
  brokers: string[],
  topic: string,
  messages: Array<{ key: string; value: Buffer }>,
): Promise<number> {
  const producer = new rd.Producer(
    {
      ...common(brokers),
      'enable.idempotence': true,
      acks: 'all',
      dr_cb: true,
      'queue.buffering.max.messages': 1_000_000,
      'queue.buffering.max.kbytes': 1_048_576,
    },
    { partitioner: 'murmur2_random' },
  );
  await new Promise<void>((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve())));
  let delivered = 0;
  let failed: Error | undefined;
  let allDelivered!: () => void;
  const done = new Promise<void>((r) => (allDelivered = r));
  producer.on('delivery-report', (err) => {
    if (err) failed ??= err;
    if (++delivered === messages.length) allDelivered();
  });
  producer.setPollInterval(10);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < messages.length;) {
    try {
      producer.produce(topic, null, messages[i]!.value, messages[i]!.key);
      i++;
    } catch {
      // The local queue is full: let delivery reports drain it.
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  await done;
  const eps = messages.length / (Number(process.hrtime.bigint() - t0) / 1e9);
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  if (failed) throw failed;
  return eps;
}

/**
 * A fresh group from the earliest records, committing automatically every second (as the bus's
 * runner commits), counting records without decoding; partition assignment to the N-th record,
 * and from the start. Returns records/s both ways.
 */
export async function rdkafkaConsume(
  rd: RdKafka,
  brokers: string[],
  topic: string,
  groupId: string,
  n: number,
): Promise<{ eps: number; epsWithJoin: number }> {
  const consumer = new rd.KafkaConsumer(
    {
      ...common(brokers),
      'group.id': groupId,
      'enable.auto.commit': true,
      'auto.commit.interval.ms': 1000,
      'fetch.wait.max.ms': 250,
      // The default assign/unassign, with the 'rebalance' event the timing starts from.
      rebalance_cb: true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const t0 = process.hrtime.bigint();
  let joined = 0n;
  consumer.on('rebalance', (err) => {
    if (err.code === rd.CODES.ERRORS.ERR__ASSIGN_PARTITIONS && joined === 0n) joined = process.hrtime.bigint();
  });
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  consumer.subscribe([topic]);
  consumer.setDefaultConsumeTimeout(250);
  let seen = 0;
  while (seen < n) {
    seen += await new Promise<number>((resolve, reject) =>
      consumer.consume(10_000, (err, messages) => (err ? reject(err) : resolve(messages.length))),
    );
  }
  const end = process.hrtime.bigint();
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  return { eps: n / (Number(end - joined) / 1e9), epsWithJoin: n / (Number(end - t0) / 1e9) };
}
