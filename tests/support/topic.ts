import type { EventBus } from '../../platform/kafka/bus.ts';
import type { RecordHeaders } from '../../platform/kafka/reader.ts';
import { waitFor } from './wait.ts';

export interface RawRecord {
  key: string | null;
  value: Buffer | null;
  headers: RecordHeaders;
}

/** Reads a topic from the beginning, committing nothing, until `done` holds for what was read. */
export async function readTopicUntil(
  bus: EventBus,
  topic: string,
  done: (records: RawRecord[]) => boolean,
): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  const reading = await bus.read(topic, { from: 'earliest', follow: true }, (r) => {
    out.push({ key: r.key?.toString() ?? null, value: r.value, headers: r.headers });
  });
  try {
    await waitFor(`records on ${topic}`, () => done(out));
    return out;
  } finally {
    await reading.stop();
  }
}
