import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deleteConsumerGroup, waitForGroupToReachEnd, type GroupProgress } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { layout } from '../../domain/media/layout.ts';
import { Packager } from './packager.ts';
import { purgeUnrecorded } from './retention.ts';
import { PackagerStorage, streamsUnder } from './storage.ts';

/**
 * Rebuilds the playlists (and the packager's state) from the topics: a packager with a fresh
 * consumer group reads live.media.segments and live.stream.lifecycle from their start into `out`,
 * checking segment files under `segments`, until it has handled what the topics held when it
 * began; it announces nothing (the VODs were announced when they happened).
 *
 * `out` must hold no packager state (a saved state's offsets would skip the records): a rebuild
 * into the live media root first removes every stream's .packager folder (`clearState`), which
 * is only safe while the live packager is stopped.
 */
export interface RebuildOptions {
  out: string;
  segments: string;
  /** Names the rebuild's consumer group: `<groupPrefix>.rebuild.<time>`. */
  groupPrefix: string;
  windowSize: number;
  deadlineMs: number;
  until?: number;
  onProgress?: (p: GroupProgress) => void;
  /** PACKAGER_UNRECORDED_KEEP_S in ms: what the live retention deleted, the rebuild deletes too. */
  unrecordedKeepMs?: number;
}

export const PACKAGER_TOPICS = ['mediaSegments', 'streamLifecycle'] as const;

export async function rebuildPlaylists(deps: { bus: EventBus; log: Logger }, opts: RebuildOptions): Promise<void> {
  const { bus, log } = deps;
  const groupId = `${opts.groupPrefix}.rebuild.${Date.now().toString(36)}`;
  const storage = new PackagerStorage(opts.out, opts.segments);
  const packager = new Packager(bus, storage, log, {
    groupId,
    windowSize: opts.windowSize,
    announce: false,
    from: 'earliest',
    ...(opts.until !== undefined && { until: opts.until }),
  });
  log.info({ out: opts.out, groupId }, 'rebuilding playlists from the topics');
  try {
    await packager.start();
    await waitForGroupToReachEnd(
      bus,
      groupId,
      PACKAGER_TOPICS.map((k) => bus.topicName(k)),
      { deadlineMs: opts.deadlineMs, ...(opts.onProgress && { onProgress: opts.onProgress }) },
    );
    if (opts.unrecordedKeepMs !== undefined)
      await purgeUnrecorded(storage, opts.until ?? Date.now(), opts.unrecordedKeepMs, log);
  } finally {
    await packager.stop();
    await deleteConsumerGroup(bus, groupId, log);
  }
}

/**
 * Removes every stream's saved packager state under `root`. Segments, thumbnails and the
 * recording journals stay: a journal is the only record of a VOD once live.media.segments has
 * dropped its events, and the rebuild's repeated lines are ignored by its readers.
 */
export async function clearState(root: string): Promise<void> {
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
