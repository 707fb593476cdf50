import { randomUUID } from 'node:crypto';
import type { BusAdmin, PartitionRange } from './admin.ts';
import type { KafkaDriver, RawRecord, RecordHeaders } from './driver.ts';
import { startOffsets, type StartPosition } from './start.ts';

/**
 * A topic's records as they are (bytes, headers, offsets), for tools and tests: no codec, no
 * dead-lettering, no commits, so a reader cannot disturb the platform's offsets. Both clients
 * read as a group member here: each reader joins a throwaway group that commits nothing, which
 * the broker forgets once the reader leaves.
 */
export type { RawRecord, RecordHeaders };

export interface ReadOptions {
  from: StartPosition;
  /** Keep reading past the ends seen at the start, until `onRecord` answers false or `stop()`. */
  follow?: boolean;
}

/** Answer false to stop reading; a throw stops it too, and `done` rejects with it. */
export type RecordListener = (record: RawRecord) => boolean | void | Promise<boolean | void>;

export interface TopicReading {
  /** Settles once reading stopped: at the ends (unless following), on false from the listener, or on `stop()`. */
  readonly done: Promise<void>;
  /** Not from inside the listener (it waits for the listener): answer false there. */
  stop(): Promise<void>;
}

export async function readTopic(
  driver: KafkaDriver,
  admin: BusAdmin,
  groupPrefix: string,
  topic: string,
  opts: ReadOptions,
  onRecord: RecordListener,
): Promise<TopicReading> {
  const { from } = opts;
  const ranges = await admin.topicOffsets(topic);
  const seeks = typeof from === 'object' ? await startOffsets(admin, [topic], from) : [];
  const startOf = (r: PartitionRange): number =>
    from === 'earliest' ? r.low : (seeks.find((s) => s.partition === r.partition)?.offset ?? r.high);
  const ends = new Map(ranges.map((r) => [r.partition, r.high]));
  const pending = new Set(ranges.filter((r) => startOf(r) < r.high).map((r) => r.partition));
  if (!opts.follow && pending.size === 0) return { done: Promise.resolve(), stop: () => Promise.resolve() };

  let stopped = false;
  let failure: Error | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const stop = (): void => {
    stopped = true;
    finish();
  };
  const consumer = driver.consumer({ groupId: `${groupPrefix}-${randomUUID()}`, maxWaitMs: 200 });
  consumer.onCrash((err, restarting) => {
    if (restarting) return;
    failure = err;
    stop();
  });
  const onOne = async (record: RawRecord): Promise<void> => {
    try {
      const more = await onRecord(record);
      if (more === false) stop();
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      stop();
    }
    if (!opts.follow && Number(record.offset) + 1 >= (ends.get(record.partition) ?? 0)) {
      pending.delete(record.partition);
      if (pending.size === 0) stop();
    }
  };
  try {
    await consumer.start({
      topics: [topic],
      // Out of range (retention passed the start meanwhile) goes back to the earliest record.
      fromBeginning: from !== 'latest',
      partitionsConcurrently: 1,
      onBatch: async (batch) => {
        for (const record of batch.records) {
          if (stopped || !batch.isLive()) return;
          await onOne(record);
          batch.resolveOffset(record.offset);
        }
      },
    });
    // The group is this reader's alone, so every partition is assigned to it by now.
    if (typeof from === 'object') {
      for (const r of ranges) consumer.seek(topic, r.partition, String(startOf(r)));
    }
  } catch (err) {
    await consumer.stop();
    throw err;
  }
  const done = finished.then(async () => {
    await consumer.stop();
    if (failure !== undefined) throw failure;
  });
  return {
    done,
    stop: () => {
      stop();
      return done;
    },
  };
}
