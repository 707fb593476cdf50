import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { StreamRecord } from './evolve.ts';
import type { CommandContext, StreamCommand } from './commands.ts';
import { StreamError } from './errors.ts';

/**
 * Pure command handling: the stream's current state and a command in, the events to append out,
 * or a rejection. Ownership is checked before the stream's status, so a stranger learns nothing
 * about a stream they may not touch beyond that it exists.
 */
export function decide(
  state: StreamRecord | undefined,
  command: StreamCommand,
  ctx: CommandContext,
): StreamLifecycleEvent[] {
  const envelope = (i: number) => ({ eventId: eventIdAt(ctx, i), occurredAt: ctx.now, streamId: command.streamId });
  switch (command.type) {
    case 'StartStream':
      if (state) throw new StreamError('stream_exists', `stream ${command.streamId} already exists`);
      return [
        {
          ...envelope(0),
          payload: {
            type: 'StreamCreated',
            streamerId: ctx.userId,
            streamerName: ctx.username,
            title: command.title,
            category: command.category,
            tags: command.tags,
            latencyMode: command.latencyMode,
            recordingEnabled: command.recordingEnabled,
            chatEnabled: command.chatEnabled,
            streamKeyHash: command.streamKeyHash,
          },
        },
      ];
    case 'UpdateStream': {
      const current = owned(state, command.streamId, ctx);
      if (current.status === 'ended') throw new StreamError('stream_ended', 'an ended stream cannot be changed');
      const title = changed(command.title, current.title);
      const category = changed(command.category, current.category);
      const tags = command.tags && !sameList(command.tags, current.tags) ? command.tags : null;
      // A PATCH that changes nothing appends nothing: retrying it is free and the topic stays meaningful.
      if (title === null && category === null && tags === null) return [];
      return [{ ...envelope(0), payload: { type: 'StreamUpdated', title, category, tags, updatedBy: ctx.userId } }];
    }
    case 'EndStream': {
      // An operator's takedown: ingest then cuts the publisher, and the key is refused from now on.
      const takedown = ctx.admin === true && state !== undefined && state.streamerId !== ctx.userId;
      const current = takedown ? state : owned(state, command.streamId, ctx);
      if (current.status === 'ended') throw new StreamError('stream_ended', 'the stream has already ended');
      const reason = takedown ? 'ADMIN' : 'STREAMER_ENDED';
      return [{ ...envelope(0), payload: { type: 'StreamEnded', reason, endedBy: ctx.userId } }];
    }
    case 'EndStreamOnNodeLoss':
      // Idempotent, not an error: several watchdog instances decide the same end, and the
      // stream may have ended (or never gone live) by another path meanwhile.
      if (state?.status !== 'live') return [];
      return [{ ...envelope(0), payload: { type: 'StreamEnded', reason: 'INGEST_NODE_LOST', endedBy: null } }];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function owned(state: StreamRecord | undefined, streamId: string, ctx: CommandContext): StreamRecord {
  if (!state) throw new StreamError('stream_not_found', `no stream ${streamId}`);
  if (state.streamerId !== ctx.userId)
    throw new StreamError('not_stream_owner', 'only the streamer may change this stream');
  return state;
}

function eventIdAt(ctx: CommandContext, i: number): string {
  const id = ctx.eventIds[i];
  if (!id) throw new Error(`command context has ${ctx.eventIds.length} event ids; event ${i} needs one`);
  return id;
}

const changed = (next: string | undefined, current: string): string | null =>
  next !== undefined && next !== current ? next : null;

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);
