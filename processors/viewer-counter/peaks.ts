import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventOf } from '../../schemas/topics.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { DerivedStore, StoreWriter, WriterOptions } from '../../platform/store/definition.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { PlaybackLog } from '../../domain/viewers/playback.ts';
import type { ViewerCounterConfig } from './config.ts';
import { StreamWindow, type WindowConfig } from './window.ts';

/**
 * Peak viewers per stream, as a store `replay` can rebuild and verify. The live store is the
 * counts topic, which only the live counter writes, so there is nothing to swap: a rebuild is
 * always apart (in memory), from live.viewer.heartbeats alone (within its retention) with the
 * counter's own window, and `--verify` compares it with the peaks the counter published. Peaks
 * depend only on the ordered heartbeats (see window.ts), which is what makes the two agree.
 *
 * With VIEWER_REQUIRE_PLAYBACK (the default) the rebuild first reads live.viewer.playback to its
 * end and joins each heartbeat with it as the live counter does (domain/viewers/playback.ts).
 *
 * One difference is by design: the live counter refuses a stream's heartbeats once it has seen
 * StreamEnded; the rebuild, which knows every end in advance, refuses those at or after the end.
 */
export function viewerPeaks(cfg: ViewerCounterConfig, deps: { bus: EventBus }): DerivedStore {
  const { bus } = deps;
  const live = bus.topicName('viewerCounts');
  const window = { windowMs: cfg.VIEWER_WINDOW_MS, maxSkewMs: cfg.VIEWER_MAX_SKEW_MS };
  const rebuilt = new Map<string, Map<string, StreamWindow>>();
  return {
    name: 'viewer-peaks',
    // The rebuild's group reads the heartbeats; the writer reads live.viewer.playback whole, in a
    // group of its own, before it starts (PeakWriter.readPlayback).
    topics: ['viewerHeartbeats'],
    liveGroupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.VIEWER_COUNTER_GROUP_ID}`,
    live,
    connect: async () => undefined,
    prepareLive: async () => undefined,
    writer(target, opts) {
      const windows = rebuilt.get(target);
      if (!windows) throw new Error(`no rebuilt peaks named ${target}`);
      return new PeakWriter(bus, windows, {
        ...opts,
        window,
        catchUpDeadlineMs: cfg.VIEWER_CATCHUP_MS,
        requirePlayback: cfg.VIEWER_REQUIRE_PLAYBACK,
      });
    },
    async createTarget(req) {
      if (req.mode === 'swap') throw new Error('viewer-peaks only rebuilds apart: use --verify or --as-of');
      const target = req.into ?? `rebuilt-${Date.now()}`;
      rebuilt.set(target, new Map());
      return target;
    },
    async finish(target) {
      return [`${peaksOf(rebuilt.get(target)!).size} stream(s) with viewers, held in memory`];
    },
    settledLive: async () => live,
    async dump(target) {
      if (target === live) return publishedPeaks(bus, `${cfg.LIVE_TOPIC_PREFIX}${cfg.VIEWER_COUNTER_GROUP_ID}`, cfg);
      const windows = rebuilt.get(target);
      if (!windows) throw new Error(`no rebuilt peaks named ${target}`);
      return new Map<string, unknown>(peaksOf(windows));
    },
    drop: async (target) => void rebuilt.delete(target),
    close: async () => undefined,
  };
}

const peaksOf = (windows: Map<string, StreamWindow>): Map<string, number> =>
  new Map([...windows].filter(([, w]) => w.peak > 0).map(([id, w]) => [id, w.peak]));

/** Folds heartbeats into each stream's window, with the stream registry telling when streams ended. */
class PeakWriter implements StoreWriter {
  readonly name = 'viewer-peaks';
  private consumer: EventConsumer | undefined;
  private projection: StreamRegistryProjection | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly windows: Map<string, StreamWindow>,
    private readonly opts: WriterOptions & {
      window: WindowConfig;
      catchUpDeadlineMs: number;
      requirePlayback: boolean;
    },
  ) {}

  /** Every playback interval within retention (and `until`), read to the end before any heartbeat. */
  private async readPlayback(): Promise<PlaybackLog> {
    const { bus, opts } = this;
    const log = new PlaybackLog(opts.window.windowMs);
    await readToEnd(
      bus,
      `${opts.groupId}.playback`,
      'viewerPlayback',
      (e) => log.record(e),
      opts.catchUpDeadlineMs,
      opts.until,
    );
    return log;
  }

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    const { bus, opts, windows } = this;
    await bus.init(['streamLifecycle', 'viewerCounts', 'viewerHeartbeats', 'viewerPlayback']);
    const playback = opts.requirePlayback ? await this.readPlayback() : undefined;
    // A rebuild refuses heartbeats after each stream's end, so it holds every end it reads (one pass, then the process exits).
    const registry = new StreamRegistry({ endedCacheSize: Number.MAX_SAFE_INTEGER });
    this.projection = new StreamRegistryProjection(bus, registry, {
      groupId: `${opts.groupId}.registry`,
      catchUpDeadlineMs: opts.catchUpDeadlineMs,
    });
    await this.projection.start();
    this.consumer = bus
      .consumer({
        groupId: opts.groupId,
        from: 'earliest',
        maxBatch: 5000,
        ...(opts.until !== undefined && { until: opts.until }),
      })
      .on(bus.topic('viewerHeartbeats'), async (records) => {
        for (const r of records) {
          const endedAt = registry.get(r.event.streamId)?.endedAt ?? null;
          if (endedAt !== null && r.event.occurredAt >= endedAt) continue;
          let w = windows.get(r.event.streamId);
          if (!w) {
            const streamId = r.event.streamId;
            const watched = playback && ((sessionId: string, at: number) => playback.fetched(streamId, sessionId, at));
            windows.set(streamId, (w = new StreamWindow(opts.window, watched)));
          }
          w.apply(r.event, r.timestamp);
        }
      });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.projection?.stop();
  }
}

/** The latest peak the live counter published for every stream (the counts topic is compacted: latest wins). */
export async function publishedPeaks(
  bus: EventBus,
  groupPrefix: string,
  cfg: Pick<ViewerCounterConfig, 'VIEWER_CATCHUP_MS'>,
): Promise<Map<string, unknown>> {
  await bus.init(['viewerCounts']);
  const peaks = new Map<string, number>();
  const groupId = `${groupPrefix}.replay-${Date.now().toString(36)}.counts`;
  await readToEnd(bus, groupId, 'viewerCounts', (e) => peaks.set(e.streamId, e.peakViewers), cfg.VIEWER_CATCHUP_MS);
  return new Map([...peaks].filter(([, p]) => p > 0));
}

/** Reads a topic from its start to its end in a one-off group (deleted after), each event to `apply`. */
async function readToEnd<K extends 'viewerCounts' | 'viewerPlayback'>(
  bus: EventBus,
  groupId: string,
  topic: K,
  apply: (event: EventOf<K>) => void,
  deadlineMs: number,
  until?: number,
): Promise<void> {
  const consumer = bus
    .consumer({ groupId, from: 'earliest', maxBatch: 5000, ...(until !== undefined && { until }) })
    .on(bus.topic(topic), async (records) => {
      for (const r of records) apply(r.event);
    });
  await consumer.start();
  try {
    await waitForGroupToReachEnd(bus, groupId, [bus.topicName(topic)], { deadlineMs });
  } finally {
    await consumer.stop();
    await deleteConsumerGroup(bus, groupId, bus.log);
  }
}
