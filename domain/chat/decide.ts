import type { ChatEvent, ChatEventPayload } from '../../schemas/generated/events.ts';
import { isTimeUuid, timeOfTimeUuid } from '../../platform/timeuuid.ts';
import { cleanColor, cleanContent } from './content.ts';
import type { ModerationView } from './moderation.ts';

/**
 * What a chat user asks for, already shaped by the gateway's protocol, and the pure decision that
 * turns it into the one ChatEvent to publish, or a reason to refuse. Everything decide would
 * otherwise invent (clock, ids) comes in with the context, so its tests are exact. Rate limits
 * are stateful and live beside it (limits.ts).
 *
 * Who may do what: anyone signed in may send (unless banned or timed out, or chat is off); the
 * streamer and their moderators may delete messages and time out, ban or unban viewers; only
 * the streamer names or removes moderators, and only the streamer may act on a moderator. The
 * streamer is never banned, timed out or acted on.
 */
export type ChatCommand =
  | { type: 'SendMessage'; content: string; color: string | null }
  | { type: 'DeleteMessage'; messageId: string }
  | { type: 'TimeoutUser'; userId: string; durationSeconds: number; reason: string | null }
  | { type: 'BanUser'; userId: string; reason: string | null }
  | { type: 'UnbanUser'; userId: string }
  | { type: 'AddModerator'; userId: string }
  | { type: 'RemoveModerator'; userId: string };

export type ChatRejection =
  'stream_not_found' | 'chat_disabled' | 'banned' | 'timed_out' | 'forbidden' | 'invalid_target' | 'invalid_content';

export interface ChatStream {
  streamId: string;
  streamerId: string;
  chatEnabled: boolean;
}

export interface Identity {
  userId: string;
  username: string;
}

export interface DecideContext {
  stream: ChatStream | undefined;
  actor: Identity;
  moderation: ModerationView;
  now: number;
  eventId: string;
  /** The id a sent message gets: time-based, minted for `now`. */
  messageId: string;
  /** How far back a message may be deleted (the history's retention). */
  retentionMs: number;
}

export type Decision =
  { ok: true; event: ChatEvent } | { ok: false; code: ChatRejection; message: string; until?: number };

export const MAX_TIMEOUT_SECONDS = 14 * 24 * 3600;

type Role = 'broadcaster' | 'moderator' | 'viewer';

export function decide(cmd: ChatCommand, ctx: DecideContext): Decision {
  const { stream, actor, moderation } = ctx;
  if (!stream) return no('stream_not_found', 'no such stream');
  const role = roleOf(actor.userId, stream, moderation);
  const emit = (payload: ChatEventPayload): Decision => ({
    ok: true,
    event: { eventId: ctx.eventId, occurredAt: ctx.now, streamId: stream.streamId, payload },
  });

  switch (cmd.type) {
    case 'SendMessage': {
      if (!stream.chatEnabled) return no('chat_disabled', 'chat is turned off for this stream');
      if (role !== 'broadcaster' && moderation.isBanned(actor.userId))
        return no('banned', 'you are banned from this chat');
      const until = moderation.timeoutUntil(actor.userId);
      if (role !== 'broadcaster' && until > ctx.now) return { ...no('timed_out', 'you are timed out'), until };
      const content = cleanContent(cmd.content);
      if (!content.ok) return no('invalid_content', content.reason);
      const color = cmd.color === null ? null : cleanColor(cmd.color);
      if (color === undefined) return no('invalid_content', 'color must be #rrggbb');
      return emit({
        type: 'ChatMessageSent',
        messageId: ctx.messageId,
        userId: actor.userId,
        username: actor.username,
        badges: role === 'viewer' ? [] : [role],
        content: content.content,
        color,
      });
    }
    case 'DeleteMessage': {
      if (role === 'viewer') return no('forbidden', 'only the streamer and moderators may delete messages');
      if (!isTimeUuid(cmd.messageId)) return no('invalid_target', 'message_id is not a chat message id');
      const age = ctx.now - timeOfTimeUuid(cmd.messageId);
      if (age < -60_000 || age > ctx.retentionMs) return no('invalid_target', 'no such message in the chat history');
      return emit({ type: 'ChatMessageDeleted', messageId: cmd.messageId, actorId: actor.userId });
    }
    case 'TimeoutUser':
    case 'BanUser':
    case 'UnbanUser': {
      const refused = mayActOn(role, actor.userId, cmd.userId, stream, moderation);
      if (refused) return refused;
      if (cmd.type === 'TimeoutUser') {
        return emit({
          type: 'UserTimedOut',
          userId: cmd.userId,
          actorId: actor.userId,
          durationSeconds: cmd.durationSeconds,
          reason: cmd.reason,
        });
      }
      if (cmd.type === 'BanUser')
        return emit({ type: 'UserBanned', userId: cmd.userId, actorId: actor.userId, reason: cmd.reason });
      return emit({ type: 'UserUnbanned', userId: cmd.userId, actorId: actor.userId });
    }
    case 'AddModerator':
    case 'RemoveModerator': {
      if (role !== 'broadcaster') return no('forbidden', 'only the streamer names moderators');
      if (cmd.userId === actor.userId) return no('invalid_target', 'the streamer is always a moderator');
      return emit({
        type: cmd.type === 'AddModerator' ? 'ModeratorAdded' : 'ModeratorRemoved',
        userId: cmd.userId,
        actorId: actor.userId,
      });
    }
    default: {
      const _exhaustive: never = cmd;
      return _exhaustive;
    }
  }
}

/** A banned moderator keeps the role on record but loses its powers until unbanned. */
function roleOf(userId: string, stream: ChatStream, moderation: ModerationView): Role {
  if (userId === stream.streamerId) return 'broadcaster';
  return moderation.isModerator(userId) && !moderation.isBanned(userId) ? 'moderator' : 'viewer';
}

function mayActOn(
  role: Role,
  actorId: string,
  targetId: string,
  stream: ChatStream,
  moderation: ModerationView,
): Decision | undefined {
  if (role === 'viewer') return no('forbidden', 'only the streamer and moderators may do that');
  if (targetId === actorId || targetId === stream.streamerId)
    return no('invalid_target', 'you cannot do that to this user');
  if (role === 'moderator' && moderation.isModerator(targetId))
    return no('forbidden', 'only the streamer may act on a moderator');
  return undefined;
}

const no = (code: ChatRejection, message: string): { ok: false; code: ChatRejection; message: string } => ({
  ok: false,
  code,
  message,
});
