import { busFromConfig } from '../../../platform/infra-config.ts';
import { createLogger } from '../../../platform/logger.ts';
import { Metrics } from '../../../platform/metrics.ts';
import { loadViewerCounterConfig } from '../../../processors/viewer-counter/config.ts';
import { publishedPeaks, rebuildPeaks } from '../../../processors/viewer-counter/replay.ts';
import type { ReplayStore, StoreEntry } from '../store.ts';

const LIVE = 'live.viewer.counts';

/**
 * Peak viewers per stream. The live store is the counts topic, which only the live counter writes,
 * so there is nothing to swap: the rebuild is always apart (in memory), for `--verify`.
 */
export const viewerPeaksStore: StoreEntry = {
  description: 'peak viewers per stream from live.viewer.heartbeats (within retention); verify only',
  async open(): Promise<ReplayStore> {
    const cfg = loadViewerCounterConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const rebuilt = new Map<string, Map<string, number>>();
    const opts = {
      groupPrefix: `${cfg.LIVE_TOPIC_PREFIX}${cfg.VIEWER_COUNTER_GROUP_ID}`,
      window: { windowMs: cfg.VIEWER_WINDOW_MS, maxSkewMs: cfg.VIEWER_MAX_SKEW_MS },
      deadlineMs: cfg.VIEWER_CATCHUP_MS,
    };
    return {
      name: 'viewer-peaks',
      async rebuild(req) {
        if (req.mode === 'swap') throw new Error('viewer-peaks only rebuilds apart: use --verify or --as-of');
        const peaks = await rebuildPeaks(bus, {
          ...opts,
          ...(req.asOf !== undefined && { until: req.asOf }),
          ...(req.onProgress && { onProgress: req.onProgress }),
        });
        const target = req.into ?? `rebuilt-${Date.now()}`;
        rebuilt.set(target, peaks);
        return { target, notes: [`${peaks.size} stream(s) with viewers, held in memory`] };
      },
      settledLiveTarget: async () => LIVE,
      async dump(target) {
        const peaks = target === LIVE ? await publishedPeaks(bus, opts) : rebuilt.get(target);
        if (!peaks) throw new Error(`no rebuilt peaks named ${target}`);
        return new Map<string, unknown>(peaks);
      },
      drop: async (target) => void rebuilt.delete(target),
      close: async () => undefined,
    };
  },
};
