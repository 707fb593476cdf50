import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatEvent, ChatEventPayload } from '../../schemas/generated/events.ts';
import { TimeUuidGenerator } from '../../platform/timeuuid.ts';
import { decide, type ChatCommand, type ChatStream, type Decision, type Identity } from './decide.ts';
import { ModerationState, moderationEffects } from './moderation.ts';

const NOW = Date.UTC(2026, 1, 2, 10, 0, 0);
const DAY = 86_400_000;
const ids = new TimeUuidGenerator(Buffer.alloc(8, 1));
const MESSAGE_ID = ids.next(NOW);
const stream: ChatStream = { streamId: 's1', streamerId: 'streamer', chatEnabled: true };
const users: Record<string, Identity> = {
  streamer: { userId: 'streamer', username: 'Streamer' },
  mod: { userId: 'mod', username: 'Mod' },
  mod2: { userId: 'mod2', username: 'Mod2' },
  viewer: { userId: 'viewer', username: 'Viewer' },
};

let seq = 0;
const event = (payload: ChatEventPayload, occurredAt = NOW - 1000): ChatEvent => ({
  eventId: `e${++seq}`,
  occurredAt,
  streamId: 's1',
  payload,
});

/** given(history).when(actor, command).then(...): the emmett shape, over decide's pure inputs. */
function given(history: ChatEvent[], on: ChatStream | null = stream) {
  const moderation = new ModerationState();
  for (const e of history) for (const fx of moderationEffects(e)) moderation.apply(fx);
  return {
    when: (actor: keyof typeof users, cmd: ChatCommand): Decision =>
      decide(cmd, {
        stream: on ?? undefined,
        actor: users[actor]!,
        moderation,
        now: NOW,
        eventId: 'new-event',
        messageId: MESSAGE_ID,
        retentionMs: 30 * DAY,
      }),
  };
}

const payloadOf = (d: Decision): ChatEventPayload => {
  assert.ok(d.ok, `accepted, got ${JSON.stringify(d)}`);
  return d.event.payload;
};
const refused = (d: Decision, code: string): void => {
  assert.equal(d.ok, false);
  assert.equal(!d.ok && d.code, code);
};

const send = (content: string, color: string | null = null): ChatCommand => ({ type: 'SendMessage', content, color });
const modAdded = event({ type: 'ModeratorAdded', userId: 'mod', actorId: 'streamer' });
const mod2Added = event({ type: 'ModeratorAdded', userId: 'mod2', actorId: 'streamer' });

describe('chat decide', () => {
  it('a viewer sends: the server assigns id, time and badges; the content is cleaned', () => {
    const d = given([]).when('viewer', send('  hi\nthere ', '#FF5733'));
    assert.ok(d.ok);
    assert.deepEqual(d.event, {
      eventId: 'new-event',
      occurredAt: NOW,
      streamId: 's1',
      payload: {
        type: 'ChatMessageSent',
        messageId: MESSAGE_ID,
        userId: 'viewer',
        username: 'Viewer',
        badges: [],
        content: 'hi there',
        color: '#ff5733',
      },
    });
  });

  it('the streamer and moderators carry their badge', () => {
    assert.deepEqual((payloadOf(given([]).when('streamer', send('hi'))) as { badges: string[] }).badges, [
      'broadcaster',
    ]);
    assert.deepEqual((payloadOf(given([modAdded]).when('mod', send('hi'))) as { badges: string[] }).badges, [
      'moderator',
    ]);
  });

  it('refuses empty content and bad colours', () => {
    refused(given([]).when('viewer', send(' \u0000 ')), 'invalid_content');
    refused(given([]).when('viewer', send('hi', 'red')), 'invalid_content');
  });

  it('refuses sends when chat is off or the stream is unknown', () => {
    refused(given([], { ...stream, chatEnabled: false }).when('streamer', send('hi')), 'chat_disabled');
    refused(given([], null).when('viewer', send('hi')), 'stream_not_found');
  });

  it('given a ban, the user cannot send; given an unban after it, they can again', () => {
    const ban = event({ type: 'UserBanned', userId: 'viewer', actorId: 'mod', reason: 'spam' }, NOW - 5000);
    refused(given([modAdded, ban]).when('viewer', send('hi')), 'banned');
    const unban = event({ type: 'UserUnbanned', userId: 'viewer', actorId: 'streamer' }, NOW - 4000);
    assert.ok(given([modAdded, ban, unban]).when('viewer', send('hi')).ok);
    assert.ok(
      given([modAdded, unban, ban].reverse()).when('viewer', send('hi')).ok,
      'order of folding does not matter',
    );
  });

  it('given a timeout, the user cannot send until it ends, and is told when', () => {
    const timeout = event(
      { type: 'UserTimedOut', userId: 'viewer', actorId: 'streamer', durationSeconds: 600, reason: null },
      NOW - 60_000,
    );
    const d = given([timeout]).when('viewer', send('hi'));
    refused(d, 'timed_out');
    assert.equal(!d.ok && d.until, NOW + 540_000);
    const expired = event(
      { type: 'UserTimedOut', userId: 'viewer', actorId: 'streamer', durationSeconds: 30, reason: null },
      NOW - 60_000,
    );
    assert.ok(given([expired]).when('viewer', send('hi')).ok);
  });

  it('moderators delete messages; viewers may not', () => {
    const target = new TimeUuidGenerator().next(NOW - 10_000);
    assert.deepEqual(payloadOf(given([modAdded]).when('mod', { type: 'DeleteMessage', messageId: target })), {
      type: 'ChatMessageDeleted',
      messageId: target,
      actorId: 'mod',
    });
    refused(given([]).when('viewer', { type: 'DeleteMessage', messageId: target }), 'forbidden');
  });

  it('a delete must name a message id from the retention window', () => {
    refused(given([]).when('streamer', { type: 'DeleteMessage', messageId: 'msg_1' }), 'invalid_target');
    refused(
      given([]).when('streamer', { type: 'DeleteMessage', messageId: new TimeUuidGenerator().next(NOW - 31 * DAY) }),
      'invalid_target',
    );
    refused(given([]).when('streamer', { type: 'DeleteMessage', messageId: ids.next(NOW + DAY) }), 'invalid_target');
  });

  it('moderators time out and ban viewers, but not the streamer, themselves or other moderators', () => {
    const timeout: ChatCommand = { type: 'TimeoutUser', userId: 'viewer', durationSeconds: 600, reason: 'caps' };
    assert.deepEqual(payloadOf(given([modAdded]).when('mod', timeout)), {
      type: 'UserTimedOut',
      userId: 'viewer',
      actorId: 'mod',
      durationSeconds: 600,
      reason: 'caps',
    });
    refused(given([modAdded]).when('mod', { type: 'BanUser', userId: 'streamer', reason: null }), 'invalid_target');
    refused(given([modAdded]).when('mod', { type: 'BanUser', userId: 'mod', reason: null }), 'invalid_target');
    refused(given([modAdded, mod2Added]).when('mod', { type: 'BanUser', userId: 'mod2', reason: null }), 'forbidden');
    assert.ok(given([modAdded, mod2Added]).when('streamer', { type: 'BanUser', userId: 'mod2', reason: null }).ok);
    const mod2Banned = event({ type: 'UserBanned', userId: 'mod2', actorId: 'streamer', reason: null });
    refused(given([mod2Added, mod2Banned]).when('mod2', send('still here?')), 'banned');
    refused(
      given([mod2Added, mod2Banned]).when('mod2', { type: 'BanUser', userId: 'viewer', reason: null }),
      'forbidden',
    );
    refused(given([]).when('viewer', timeout), 'forbidden');
  });

  it('only the streamer names and removes moderators', () => {
    assert.deepEqual(payloadOf(given([]).when('streamer', { type: 'AddModerator', userId: 'viewer' })), {
      type: 'ModeratorAdded',
      userId: 'viewer',
      actorId: 'streamer',
    });
    refused(given([modAdded]).when('mod', { type: 'AddModerator', userId: 'viewer' }), 'forbidden');
    const removed = event({ type: 'ModeratorRemoved', userId: 'mod', actorId: 'streamer' }, NOW - 500);
    refused(given([modAdded, removed]).when('mod', { type: 'DeleteMessage', messageId: MESSAGE_ID }), 'forbidden');
  });
});

describe('moderation state merge', () => {
  it('is last-writer-wins by event time, whatever order the cells arrive in', () => {
    const a = new ModerationState();
    const b = new ModerationState();
    const ban = moderationEffects(event({ type: 'UserBanned', userId: 'v', actorId: 'streamer', reason: null }, 1000));
    const unban = moderationEffects(event({ type: 'UserUnbanned', userId: 'v', actorId: 'streamer' }, 2000));
    for (const fx of [...ban, ...unban]) a.apply(fx);
    for (const fx of [...unban, ...ban]) b.apply(fx);
    assert.equal(a.isBanned('v'), false);
    assert.equal(b.isBanned('v'), false);
  });

  it('breaks a tie as Cassandra does: the greater value wins', () => {
    const s = new ModerationState();
    s.apply({ streamId: 's1', userId: 'v', column: 'banned', value: false, at: 5 });
    s.apply({ streamId: 's1', userId: 'v', column: 'banned', value: true, at: 5 });
    s.apply({ streamId: 's1', userId: 'v', column: 'banned', value: false, at: 5 });
    assert.equal(s.isBanned('v'), true);
  });
});
