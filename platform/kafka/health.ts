import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

const HEALTH_TOPIC = '__live_platform_health';

/**
 * A broker is healthy when it takes a record with acks from all in-sync replicas and hands back
 * exactly that record: a real produce/fetch round trip on a topic of its own, not a port check.
 * Quick to give up, so a caller can poll it while the broker starts.
 */
export async function probeBroker(brokers: string[]): Promise<void> {
  const client = new Kafka({
    clientId: 'launcher-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
    connectionTimeout: 2000,
  });
  const admin = client.admin();
  const producer = client.producer({ idempotent: true, allowAutoTopicCreation: false });
  const consumer = client.consumer({ groupId: `launcher-probe-${randomUUID()}` });
  try {
    await admin.connect();
    const existing = await admin.listTopics();
    if (!existing.includes(HEALTH_TOPIC)) {
      await admin.createTopics({ topics: [{ topic: HEALTH_TOPIC, numPartitions: 1 }], waitForLeaders: true });
    }
    await producer.connect();
    const nonce = randomUUID();
    const [meta] = await producer.send({ topic: HEALTH_TOPIC, acks: -1, messages: [{ value: nonce }] });
    if (!meta) throw new Error('produce returned no metadata');
    await consumer.connect();
    await consumer.subscribe({ topic: HEALTH_TOPIC, fromBeginning: false });
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('health record not consumed within 10 s')), 10_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString() === nonce) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    consumer.seek({ topic: HEALTH_TOPIC, partition: meta.partition, offset: String(meta.baseOffset) });
    await seen;
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  }
}
