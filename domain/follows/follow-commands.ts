import { randomUUID } from 'node:crypto';
import type { FollowEvent } from '../../schemas/generated/events.ts';
import { KeyedLock } from '../../platform/keyed-lock.ts';
import { decideFollow, type FollowCommand } from './decide.ts';

/**
 * Follow and unfollow: read the pair's state, decide, publish. Commands for one pair run one at a
 * time in this process, and what this process published is remembered for `pendingMs` (until the
 * follows sink has surely written it), so a double click is refused here even before the graph
 * in Cassandra shows the first follow. Two API instances can still race on one pair; the result
 * is a duplicate event, which the sink applies idempotently (latest per pair wins).
 */
export interface FollowDeps {
  isKnownUser: (userId: string) => boolean;
  isFollowing: (followerId: string, streamerId: string) => Promise<boolean>;
  publish: (events: FollowEvent[]) => Promise<void>;
  clock: () => number;
  pendingMs: number;
}

export class FollowCommands {
  private readonly lock = new KeyedLock();
  private readonly pending = new Map<string, { following: boolean; until: number }>();

  constructor(private readonly d: FollowDeps) {}

  follow(followerId: string, streamerId: string): Promise<FollowEvent> {
    return this.run({ kind: 'follow', followerId, streamerId });
  }

  unfollow(followerId: string, streamerId: string): Promise<FollowEvent> {
    return this.run({ kind: 'unfollow', followerId, streamerId });
  }

  private run(cmd: FollowCommand): Promise<FollowEvent> {
    const key = `${cmd.followerId}\u0000${cmd.streamerId}`;
    return this.lock.run(key, async () => {
      const now = this.d.clock();
      this.expire(now);
      const streamerKnown = this.d.isKnownUser(cmd.streamerId);
      const recent = this.pending.get(key);
      const following =
        cmd.followerId === cmd.streamerId || !streamerKnown
          ? false
          : (recent?.following ?? (await this.d.isFollowing(cmd.followerId, cmd.streamerId)));
      const event = decideFollow(cmd, { streamerKnown, following }, { eventId: randomUUID(), now });
      await this.d.publish([event]);
      this.pending.set(key, { following: cmd.kind === 'follow', until: now + this.d.pendingMs });
      return event;
    });
  }

  private expire(now: number): void {
    for (const [k, v] of this.pending) if (v.until <= now) this.pending.delete(k);
  }
}
