import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import type { DerivedStore } from '../../platform/store/definition.ts';
import { layout } from '../../domain/media/layout.ts';
import type { PackagerConfig } from './config.ts';
import { Packager } from './packager.ts';
import { purgeUnrecorded } from './retention.ts';
import { PackagerStorage, streamsUnder } from './storage.ts';

export const PACKAGER_TOPICS = ['mediaSegments', 'streamLifecycle', 'vodDeletions'] as const;

/**
 * HLS playlists and the packager's state under MEDIA_ROOT, defined once: the live packager and
 * `npm run replay -- playlists` run the same Packager over live.media.segments,
 * live.stream.lifecycle and live.vod.deletions. A rebuild announces nothing (the VODs were announced when they
 * happened), checks segment files under the live media root, and applies the unrecorded-media
 * retention as of its point in time, so it deletes what the live retention deleted.
 *
 * Apart: into a sibling folder (its playlists name the live segments, which stay where they are).
 * Swap: in place, which needs the live packager stopped (its consumer group without members): a
 * saved state's offsets would skip records, so every stream's .packager state is removed first;
 * the live packager resumes from its committed offsets afterwards and skips what the rebuild
 * already applied.
 */
export function playlistsStore(cfg: PackagerConfig, deps: { bus: EventBus; log: Logger }): DerivedStore {
  const { bus, log } = deps;
  const live = resolve(cfg.MEDIA_ROOT);
  const liveGroupId = `${cfg.LIVE_TOPIC_PREFIX}${cfg.PACKAGER_GROUP_ID}`;
  return {
    name: 'playlists',
    topics: PACKAGER_TOPICS,
    liveGroupId,
    live,
    connect: async () => undefined,
    prepareLive: async () => log.info({ mediaRoot: live }, 'packaging into media root'),
    writer: (target, { live: announce, ...opts }) =>
      new Packager(bus, new PackagerStorage(target, live), log, {
        ...opts,
        windowSize: cfg.PACKAGER_WINDOW_SEGMENTS,
        dvrWindowMs: cfg.PACKAGER_DVR_WINDOW_S * 1000,
        announce,
        from: 'earliest',
      }),
    async createTarget(req) {
      if (req.mode === 'swap' && req.into === undefined) {
        if (await bus.withAdmin((admin) => admin.hasMembers(liveGroupId)))
          throw new Error(`the packager (group ${liveGroupId}) is running: stop it before rebuilding in place`);
        await clearState(live);
        return live;
      }
      const out = resolve(req.into ?? join(dirname(live), `${basename(live)}.rebuild-${Date.now().toString(36)}`));
      await mkdir(out, { recursive: true });
      return out;
    },
    async swapIn(target) {
      return target === live ? ['start the packager again: it resumes after what the rebuild applied'] : [];
    },
    async finish(target, req) {
      await purgeUnrecorded(
        new PackagerStorage(target, live),
        req.asOf ?? Date.now(),
        cfg.PACKAGER_UNRECORDED_KEEP_S * 1000,
        cfg.PACKAGER_DELETED_KEEP_S * 1000,
        log,
      );
      return [];
    },
    async settledLive() {
      await waitForGroupToReachEnd(
        bus,
        liveGroupId,
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
}

/**
 * Removes every stream's saved packager state under `root`. Segments, thumbnails and the
 * recording journals stay: a journal is the only record of a VOD once live.media.segments has
 * dropped its events, and the rebuild's repeated lines are ignored by its readers.
 */
async function clearState(root: string): Promise<void> {
  for (const stream of await streamsUnder(root)) {
    await rm(join(root, stream, layout.state), { force: true });
  }
}

/**
 * Every playlist and saved state under `root`, keyed `<stream>/<file>`: equal rebuilds give equal
 * maps. The journal is left out: a redelivered record may repeat a line, which readers ignore.
 */
export async function dumpPlaylists(root: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const stream of await streamsUnder(root)) {
    for (const f of await readdir(join(root, stream))) {
      if (f.endsWith('.m3u8')) out.set(`${stream}/${f}`, await readFile(join(root, stream, f), 'utf8'));
    }
    try {
      out.set(`${stream}/${layout.state}`, JSON.parse(await readFile(join(root, stream, layout.state), 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}
