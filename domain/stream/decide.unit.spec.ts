import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { evolve, type StreamRecord } from './evolve.ts';
import type { CommandContext, StreamCommand } from './commands.ts';
import { decide } from './decide.ts';
import { StreamError, type StreamErrorCode } from './errors.ts';

const owner: CommandContext = { userId: 'user_1', username: 'alice', now: 5000, eventIds: ['e-1'] };
const stranger: CommandContext = { ...owner, userId: 'user_2', username: 'mallory' };

const start: StreamCommand = {
  type: 'StartStream',
  streamId: 'stream_1',
  streamKeyHash: 'ab'.repeat(32),
  title: 'Dark Souls',
  category: 'Gaming',
  tags: ['souls'],
  latencyMode: 'STANDARD',
  recordingEnabled: true,
  chatEnabled: true,
};
const created: StreamLifecycleEvent = {
  eventId: 'e-0',
  occurredAt: 1000,
  streamId: 'stream_1',
  payload: {
    type: 'StreamCreated',
    streamerId: 'user_1',
    streamerName: 'alice',
    title: 'Dark Souls',
    category: 'Gaming',
    tags: ['souls'],
    latencyMode: 'STANDARD',
    recordingEnabled: true,
    chatEnabled: true,
    streamKeyHash: 'ab'.repeat(32),
  },
};
const ended: StreamLifecycleEvent = {
  eventId: 'e-9',
  occurredAt: 2000,
  streamId: 'stream_1',
  payload: { type: 'StreamEnded', reason: 'STREAMER_ENDED', endedBy: 'user_1' },
};

/** given(history).when(command, as).then(events) | .thenRejects(code) */
function given(history: StreamLifecycleEvent[]) {
  const state = history.reduce<StreamRecord | undefined>(evolve, undefined);
  return {
    when: (command: StreamCommand, ctx: CommandContext = owner) => ({
      then: (expected: StreamLifecycleEvent[]) => assert.deepEqual(decide(state, command, ctx), expected),
      thenRejects: (code: StreamErrorCode) =>
        assert.throws(
          () => decide(state, command, ctx),
          (err: unknown) => err instanceof StreamError && err.code === code,
        ),
    }),
  };
}

describe('stream decide', () => {
  it('StartStream creates the stream for the caller, with only the key hash', () => {
    given([])
      .when(start)
      .then([{ ...created, eventId: 'e-1', occurredAt: 5000 }]);
  });

  it('StartStream for an id that exists is rejected', () => {
    given([created]).when(start).thenRejects('stream_exists');
  });

  it('UpdateStream emits only what changes', () => {
    given([created])
      .when({
        type: 'UpdateStream',
        streamId: 'stream_1',
        title: 'Dark Souls',
        category: 'Retro',
        tags: ['souls', 'new'],
      })
      .then([
        {
          eventId: 'e-1',
          occurredAt: 5000,
          streamId: 'stream_1',
          payload: {
            type: 'StreamUpdated',
            title: null,
            category: 'Retro',
            tags: ['souls', 'new'],
            updatedBy: 'user_1',
          },
        },
      ]);
  });

  it('UpdateStream that changes nothing emits nothing', () => {
    given([created])
      .when({ type: 'UpdateStream', streamId: 'stream_1', title: 'Dark Souls', tags: ['souls'] })
      .then([]);
  });

  it('only the owner may update or end; ownership is checked before status', () => {
    given([created])
      .when({ type: 'UpdateStream', streamId: 'stream_1', title: 'x' }, stranger)
      .thenRejects('not_stream_owner');
    given([created, ended]).when({ type: 'EndStream', streamId: 'stream_1' }, stranger).thenRejects('not_stream_owner');
  });

  it('unknown streams are not found', () => {
    given([]).when({ type: 'UpdateStream', streamId: 'stream_1', title: 'x' }).thenRejects('stream_not_found');
    given([]).when({ type: 'EndStream', streamId: 'stream_1' }).thenRejects('stream_not_found');
  });

  it('EndStream ends a ready or live stream as the streamer', () => {
    given([created])
      .when({ type: 'EndStream', streamId: 'stream_1' })
      .then([
        {
          eventId: 'e-1',
          occurredAt: 5000,
          streamId: 'stream_1',
          payload: { type: 'StreamEnded', reason: 'STREAMER_ENDED', endedBy: 'user_1' },
        },
      ]);
  });

  it("an operator ends anyone's stream as ADMIN, but changes nothing else of it", () => {
    const operator: CommandContext = { ...stranger, userId: 'ops_1', username: 'ops', admin: true };
    given([created])
      .when({ type: 'EndStream', streamId: 'stream_1' }, operator)
      .then([
        {
          eventId: 'e-1',
          occurredAt: 5000,
          streamId: 'stream_1',
          payload: { type: 'StreamEnded', reason: 'ADMIN', endedBy: 'ops_1' },
        },
      ]);
    given([created, ended]).when({ type: 'EndStream', streamId: 'stream_1' }, operator).thenRejects('stream_ended');
    given([]).when({ type: 'EndStream', streamId: 'stream_1' }, operator).thenRejects('stream_not_found');
    given([created])
      .when({ type: 'UpdateStream', streamId: 'stream_1', title: 'x' }, operator)
      .thenRejects('not_stream_owner');
    given([created])
      .when({ type: 'EndStream', streamId: 'stream_1' }, { ...owner, admin: true })
      .then([
        {
          eventId: 'e-1',
          occurredAt: 5000,
          streamId: 'stream_1',
          payload: { type: 'StreamEnded', reason: 'STREAMER_ENDED', endedBy: 'user_1' },
        },
      ]);
  });

  describe('EndStreamOnNodeLoss (the ingest watchdog)', () => {
    const wentLive: StreamLifecycleEvent = {
      eventId: 'e-2',
      occurredAt: 1500,
      streamId: 'stream_1',
      payload: {
        type: 'StreamWentLive',
        startedAt: 1500,
        sourceUrl: 'rtmp://127.0.0.1:1935/live/stream_1',
        ingestNode: 'ingest-a',
        width: null,
        height: null,
        frameRate: null,
        videoCodec: null,
        audioCodec: null,
      },
    };
    const lost: StreamCommand = { type: 'EndStreamOnNodeLoss', streamId: 'stream_1', ingestNode: 'ingest-a' };
    const watchdog: CommandContext = {
      userId: 'ingest-watchdog',
      username: 'ingest-watchdog',
      now: 5000,
      eventIds: ['e-1'],
    };

    it('ends a live stream as INGEST_NODE_LOST, by nobody', () => {
      given([created, wentLive])
        .when(lost, watchdog)
        .then([
          {
            eventId: 'e-1',
            occurredAt: 5000,
            streamId: 'stream_1',
            payload: { type: 'StreamEnded', reason: 'INGEST_NODE_LOST', endedBy: null },
          },
        ]);
    });

    it('leaves alone a stream already ended (another instance, or the streamer, came first)', () => {
      given([created, wentLive, ended]).when(lost, watchdog).then([]);
      given([
        created,
        wentLive,
        { ...ended, eventId: 'e-8', payload: { type: 'StreamEnded', reason: 'INGEST_NODE_LOST', endedBy: null } },
      ])
        .when(lost, watchdog)
        .then([]);
    });

    it('leaves alone a stream that never went live, or that it does not know', () => {
      given([created]).when(lost, watchdog).then([]);
      given([]).when(lost, watchdog).then([]);
    });
  });

  it('an ended stream can be neither ended again nor changed', () => {
    given([created, ended]).when({ type: 'EndStream', streamId: 'stream_1' }).thenRejects('stream_ended');
    given([created, ended])
      .when({ type: 'UpdateStream', streamId: 'stream_1', title: 'x' })
      .thenRejects('stream_ended');
  });
});
