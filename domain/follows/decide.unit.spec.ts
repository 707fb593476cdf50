import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideFollow, type FollowCommand, type PairState } from './decide.ts';
import { FollowError } from './errors.ts';
import { FollowCommands } from './follow-commands.ts';

const meta = { eventId: '00000000-0000-4000-8000-000000000001', now: 1_700_000_000_000 };
const given = (state: PairState) => ({
  when: (cmd: FollowCommand) => ({
    then: (expected: unknown) => assert.deepEqual(decideFollow(cmd, state, meta), expected),
    rejects: (code: string) =>
      assert.throws(
        () => decideFollow(cmd, state, meta),
        (e: unknown) => e instanceof FollowError && e.code === code,
      ),
  }),
});
const follow = (followerId: string, streamerId: string): FollowCommand => ({ kind: 'follow', followerId, streamerId });
const unfollow = (followerId: string, streamerId: string): FollowCommand => ({
  kind: 'unfollow',
  followerId,
  streamerId,
});

describe('decideFollow', () => {
  it('a follow of a known streamer not yet followed is a Followed keyed by the streamer', () => {
    given({ streamerKnown: true, following: false })
      .when(follow('bob', 'alice'))
      .then({
        eventId: meta.eventId,
        occurredAt: meta.now,
        streamerId: 'alice',
        payload: { type: 'Followed', followerId: 'bob' },
      });
  });

  it('an unfollow of a followed streamer is an Unfollowed', () => {
    given({ streamerKnown: true, following: true })
      .when(unfollow('bob', 'alice'))
      .then({
        eventId: meta.eventId,
        occurredAt: meta.now,
        streamerId: 'alice',
        payload: { type: 'Unfollowed', followerId: 'bob' },
      });
  });

  it('refuses following yourself, unknown users, double follows and unfollowing what is not followed', () => {
    given({ streamerKnown: true, following: false }).when(follow('alice', 'alice')).rejects('cannot_follow_self');
    given({ streamerKnown: false, following: false }).when(follow('bob', 'nobody')).rejects('user_not_found');
    given({ streamerKnown: true, following: true }).when(follow('bob', 'alice')).rejects('already_following');
    given({ streamerKnown: true, following: false }).when(unfollow('bob', 'alice')).rejects('not_following');
  });
});

describe('FollowCommands', () => {
  const commands = (stored: boolean) => {
    const published: unknown[] = [];
    let now = 1000;
    const c = new FollowCommands({
      isKnownUser: (id) => id === 'alice',
      isFollowing: async () => stored,
      publish: async (events) => void published.push(...events),
      clock: () => now,
      pendingMs: 100,
    });
    return { c, published, advance: (ms: number) => (now += ms) };
  };

  it('a double follow sent at once is refused before the graph shows the first one', async () => {
    const { c, published } = commands(false);
    const results = await Promise.allSettled([c.follow('bob', 'alice'), c.follow('bob', 'alice')]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.equal(((results[1] as PromiseRejectedResult).reason as FollowError).code, 'already_following');
    assert.equal(published.length, 1);
  });

  it('follow, unfollow, follow in a row each publish, then the graph is the source again', async () => {
    const { c, published, advance } = commands(false);
    await c.follow('bob', 'alice');
    await c.unfollow('bob', 'alice');
    await c.follow('bob', 'alice');
    assert.deepEqual(
      published.map((e) => (e as { payload: { type: string } }).payload.type),
      ['Followed', 'Unfollowed', 'Followed'],
    );
    advance(1000);
    // The remembered follow has expired: the (stale) graph says not following, so this passes.
    await c.follow('bob', 'alice');
    assert.equal(published.length, 4);
  });
});
