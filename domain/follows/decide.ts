import type { FollowEvent } from '../../schemas/generated/events.ts';
import { FollowError } from './errors.ts';

/**
 * The follow decision, pure: a command and what is known about the pair in, one event (or a
 * refusal) out. A refused command produces no event, so the topic only ever holds real changes.
 *
 * "Known" user: there is no user-registration topic, so a user is known once the stream registry
 * has seen them create a stream (they are a streamer: someone there is something to follow and
 * be notified about). The follower needs only a valid token.
 */
export interface FollowCommand {
  kind: 'follow' | 'unfollow';
  followerId: string;
  streamerId: string;
}

export interface PairState {
  streamerKnown: boolean;
  following: boolean;
}

export function decideFollow(
  cmd: FollowCommand,
  state: PairState,
  meta: { eventId: string; now: number },
): FollowEvent {
  if (cmd.followerId === cmd.streamerId) throw new FollowError('cannot_follow_self', 'you cannot follow yourself');
  if (!state.streamerKnown) throw new FollowError('user_not_found', `no user ${cmd.streamerId}`);
  if (cmd.kind === 'follow' && state.following)
    throw new FollowError('already_following', `you already follow ${cmd.streamerId}`);
  if (cmd.kind === 'unfollow' && !state.following)
    throw new FollowError('not_following', `you do not follow ${cmd.streamerId}`);
  return {
    eventId: meta.eventId,
    occurredAt: meta.now,
    streamerId: cmd.streamerId,
    payload:
      cmd.kind === 'follow'
        ? { type: 'Followed', followerId: cmd.followerId }
        : { type: 'Unfollowed', followerId: cmd.followerId },
  };
}
