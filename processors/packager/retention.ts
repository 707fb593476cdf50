import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter } from 'prom-client';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { isSafeName, PACKAGER_DIR } from '../../domain/media/layout.ts';
import type { StreamPackage } from './state.ts';
import { streamsUnder, type PackagerStorage } from './storage.ts';

/**
 * Media of streams whose streamer turned recording off is deleted once they have ended: nothing
 * may keep, or serve, a broadcast its streamer asked not to record. `keepMs` after the end lets
 * players that were behind finish the last window. Likewise the media of a recording its
 * streamer deleted (VodDeleted), `deletedKeepMs` after the deletion: the API stops offering it at
 * once, and the grace period lets players that had it open finish, and an operator undo a mistake
 * from the files. Only the packager's own folder stays (its
 * state says the stream ended, so a late event cannot bring playlists back, and replays still
 * find the stream); a recorded stream's media is its VOD and is never touched here.
 *
 * It sweeps the media root on an interval rather than setting a timer per stream, so a restart
 * or another packager instance finishes what one began; deleting what another instance deleted
 * already is harmless.
 */
export function mediaExpired(state: StreamPackage, now: number, keepMs: number, deletedKeepMs: number): boolean {
  if (state.status !== 'ended' || state.endedAt === null) return false;
  if (!state.recording) return now - state.endedAt >= keepMs;
  return state.deletedAt !== null && now - state.deletedAt >= deletedKeepMs;
}

export interface RetentionOptions {
  keepMs: number;
  deletedKeepMs: number;
  everyMs: number;
  clock?: () => number;
}

export class UnrecordedMediaRetention implements Component {
  readonly name = 'unrecorded-media-retention';
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  private readonly purged: Counter;

  constructor(
    private readonly storage: PackagerStorage,
    private readonly log: Logger,
    metrics: Metrics,
    private readonly opts: RetentionOptions,
  ) {
    this.purged = new Counter({
      name: 'live_packager_unrecorded_purged_total',
      help: 'Ended streams not recorded, or whose recording was deleted, whose segments, thumbnails and playlists were deleted',
      registers: [metrics.registry],
    });
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      this.sweeping = this.sweeping.then(async () => {
        await this.sweep().catch((err: unknown) => this.log.warn({ err }, 'media retention sweep failed'));
      });
    }, this.opts.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** One pass over the media root; resolves with the streams whose media it deleted. */
  async sweep(): Promise<string[]> {
    const now = (this.opts.clock ?? Date.now)();
    const done = await purgeUnrecorded(this.storage, now, this.opts.keepMs, this.opts.deletedKeepMs, this.log);
    this.purged.inc(done.length);
    return done;
  }
}

/**
 * Deletes, under `storage.out`, everything but the packager's folder of each stream whose media
 * has expired (`mediaExpired`); resolves with those streams. A rebuild runs it too, so its output
 * matches a live media root the retention has swept.
 */
export async function purgeUnrecorded(
  storage: PackagerStorage,
  now: number,
  keepMs: number,
  deletedKeepMs: number,
  log: Logger,
): Promise<string[]> {
  const done: string[] = [];
  for (const streamId of await streamsUnder(storage.out)) {
    if (!isSafeName(streamId)) continue;
    const state = await storage.loadState(streamId);
    if (!state || !mediaExpired(state, now, keepMs, deletedKeepMs)) continue;
    const folder = join(storage.out, streamId);
    const media = (await readdir(folder)).filter((name) => name !== PACKAGER_DIR);
    if (media.length === 0) continue;
    for (const name of media) await rm(join(folder, name), { recursive: true, force: true });
    const why = state.recording ? 'its recording was deleted' : 'it was not recorded';
    log.info({ streamId, removed: media.length }, `deleted the media of an ended stream: ${why}`);
    done.push(streamId);
  }
  return done;
}
