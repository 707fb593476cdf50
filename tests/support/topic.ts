import type { IHeaders } from 'kafkajs';
import type { EventBus } from '../../platform/kafka/bus.ts';
import { waitFor } from './wait.ts';

export interface RawRecord {
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Reads a topic from the beginning with a throwaway group until `done` holds for what was read. */
export async function readTopicUntil(
  bus: EventBus,
  topic: string,
  done: (records: RawRecord[]) => boolean,
): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  const c = bus.kafka.consumer({ groupId: `${topic}.reader.${Math.random()}` });
  await c.connect();
  try {
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) =>
        void out.push({ key: message.key?.toString() ?? null, value: message.value, headers: message.headers ?? {} }),
    });
    await waitFor(`records on ${topic}`, () => done(out));
    return out;
  } finally {
    await c.disconnect();
  }
}
