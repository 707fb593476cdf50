import { randomBytes } from 'node:crypto';
import { deleteConsumerGroup, waitForGroupToReachEnd, type GroupProgress } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { StreamWindow, type WindowConfig } from './window.ts';

/**
 * Peak viewers per stream, rebuilt from live.viewer.heartbeats alone (within its retention) with
 * the counter's own window, and the peaks the live counter published on live.viewer.counts, so a
 * person (or a spec) can check that the two agree. Peaks depend only on the ordered heartbeats
 * (see window.ts), which is what makes the rebuild equal the live result.
 *
 * One difference is by design: the live counter refuses a stream's heartbeats once it has seen
 * StreamEnded; the rebuild, which knows every end in advance, refuses those at or after the end.
 */
export interface PeakReplayOptions {
  groupPrefix: string;
  window: WindowConfig;
  deadlineMs: number;
  /** Only heartbeats appended up to then (broker time, ms). */
  until?: number;
  onProgress?: (p: GroupProgress) => void;
}

export async function rebuildPeaks(bus: EventBus, opts: PeakReplayOptions): Promise<Map<string, number>> {
  await bus.init(['streamLifecycle', 'viewerCounts', 'viewerHeartbeats']);
  const base = `${opts.groupPrefix}.replay-${randomBytes(4).toString('hex')}`;
  const registry = new StreamRegistry();
  const projection = new StreamRegistryProjection(bus, registry, {
    groupId: `${base}.registry`,
    catchUpDeadlineMs: opts.deadlineMs,
  });
  await projection.start();
  const windows = new Map<string, StreamWindow>();
  try {
    await readToEnd(bus, `${base}.heartbeats`, opts, [bus.topicName('viewerHeartbeats')], (consumer) =>
      consumer.on(bus.topic('viewerHeartbeats'), async (records) => {
        for (const r of records) {
          const endedAt = registry.get(r.event.streamId)?.endedAt ?? null;
          if (endedAt !== null && r.event.occurredAt >= endedAt) continue;
          let w = windows.get(r.event.streamId);
          if (!w) windows.set(r.event.streamId, (w = new StreamWindow(opts.window)));
          w.apply(r.event, r.timestamp);
        }
      }),
    );
  } finally {
    await projection.stop();
  }
  return new Map([...windows].filter(([, w]) => w.peak > 0).map(([id, w]) => [id, w.peak]));
}

/** The latest peak the live counter published for every stream (the counts topic is compacted: latest wins). */
export async function publishedPeaks(bus: EventBus, opts: PeakReplayOptions): Promise<Map<string, number>> {
  await bus.init(['viewerCounts']);
  const peaks = new Map<string, number>();
  const groupId = `${opts.groupPrefix}.replay-${randomBytes(4).toString('hex')}.counts`;
  await readToEnd(bus, groupId, opts, [bus.topicName('viewerCounts')], (consumer) =>
    consumer.on(bus.topic('viewerCounts'), async (records) => {
      for (const r of records) peaks.set(r.event.streamId, r.event.peakViewers);
    }),
  );
  return new Map([...peaks].filter(([, p]) => p > 0));
}

async function readToEnd(
  bus: EventBus,
  groupId: string,
  opts: PeakReplayOptions,
  topics: string[],
  subscribe: (c: EventConsumer) => EventConsumer,
): Promise<void> {
  const consumer = subscribe(
    bus.consumer({
      groupId,
      from: 'earliest',
      maxBatch: 5000,
      ...(opts.until !== undefined && { until: opts.until }),
    }),
  );
  await consumer.start();
  try {
    await waitForGroupToReachEnd(bus, groupId, topics, {
      deadlineMs: opts.deadlineMs,
      ...(opts.onProgress && { onProgress: opts.onProgress }),
    });
  } finally {
    await consumer.stop();
    await deleteConsumerGroup(bus, groupId, bus.log);
  }
}
