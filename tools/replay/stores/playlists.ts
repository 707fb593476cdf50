import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { waitForGroupToReachEnd } from '../../../platform/kafka/groups.ts';
import { busFromConfig } from '../../../platform/infra-config.ts';
import { createLogger } from '../../../platform/logger.ts';
import { Metrics } from '../../../platform/metrics.ts';
import { loadPackagerConfig } from '../../../processors/packager/config.ts';
import { PACKAGER_TOPICS, clearState, dumpPlaylists, rebuildPlaylists } from '../../../processors/packager/replay.ts';
import type { ReplayStore, StoreEntry } from '../store.ts';

/**
 * HLS playlists and the packager's state under MEDIA_ROOT. Apart: into a sibling folder (the
 * playlists there name the live segments, which stay where they are). Swap: in place, which needs
 * the live packager stopped (its consumer group without members); it resumes from its committed
 * offsets afterwards and skips what the rebuild already applied.
 */
export const playlistsStore: StoreEntry = {
  description: 'HLS playlists and packager state under MEDIA_ROOT (live.media.segments, live.stream.lifecycle)',
  async open(): Promise<ReplayStore> {
    const cfg = loadPackagerConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const live = resolve(cfg.MEDIA_ROOT);
    const groupPrefix = `${cfg.LIVE_TOPIC_PREFIX}${cfg.PACKAGER_GROUP_ID}`;
    return {
      name: 'playlists',
      async rebuild(req) {
        const inPlace = req.mode === 'swap' && req.into === undefined;
        const out = inPlace
          ? live
          : resolve(req.into ?? join(dirname(live), `${basename(live)}.rebuild-${Date.now().toString(36)}`));
        if (inPlace) {
          if (await bus.withAdmin((admin) => admin.hasMembers(groupPrefix)))
            throw new Error(`the packager (group ${groupPrefix}) is running: stop it before rebuilding in place`);
          await clearState(live);
        }
        await rebuildPlaylists(
          { bus, log },
          {
            out,
            segments: live,
            groupPrefix,
            windowSize: cfg.PACKAGER_WINDOW_SEGMENTS,
            deadlineMs: cfg.PACKAGER_REBUILD_DEADLINE_MS,
            unrecordedKeepMs: cfg.PACKAGER_UNRECORDED_KEEP_S * 1000,
            ...(req.asOf !== undefined && { until: req.asOf }),
            ...(req.onProgress && { onProgress: req.onProgress }),
          },
        );
        return {
          target: out,
          notes: inPlace ? ['start the packager again: it resumes after what the rebuild applied'] : [],
        };
      },
      async settledLiveTarget() {
        await waitForGroupToReachEnd(
          bus,
          groupPrefix,
          PACKAGER_TOPICS.map((k) => bus.topicName(k)),
          { deadlineMs: 120_000 },
        );
        return live;
      },
      dump: (target) => dumpPlaylists(target),
      async drop(target) {
        if (resolve(target) === live) throw new Error(`${target} is the live media root; not dropping it`);
        await rm(target, { recursive: true, force: true });
      },
      close: async () => undefined,
    };
  },
};
