import { z } from 'zod';
import type { ChatEvent, ChatMessageSent } from '../../schemas/generated/events.ts';
import { isTimeUuid, timeOfTimeUuid } from '../../platform/timeuuid.ts';
import { MAX_TIMEOUT_SECONDS, type ChatCommand } from '../../domain/chat/decide.ts';
import type { ArchivedMessage } from '../../domain/chat/history.ts';
import type { ChatErrorCode } from './errors.ts';

/**
 * The chat wire protocol: JSON text frames over `/streams/:id/chat`.
 *
 * Client -> server (every frame may carry a `nonce`, up to 64 characters, echoed in its ack or error):
 *   {"type":"message", "content", "color"?}          send (signed-in users)
 *   {"type":"delete", "message_id"}                   streamer / moderators
 *   {"type":"timeout", "user_id", "duration_seconds", "reason"?}
 *   {"type":"ban", "user_id", "reason"?}   {"type":"unban", "user_id"}
 *   {"type":"add_moderator", "user_id"}    {"type":"remove_moderator", "user_id"}   streamer only
 *
 * Server -> client:
 *   {"type":"history", "messages": [message...], "complete"}   first frame after connecting;
 *        the last messages, or with ?since=<message_id> everything after it (complete: false
 *        when more was missed than one frame holds: page back with GET .../chat?before=)
 *   {"type":"message", "message_id", "user": {"user_id", "username", "badges"}, "content", "color", "timestamp"}
 *   {"type":"message_deleted", "message_id"}  {"type":"user_timed_out", "user_id", "until"}
 *   {"type":"user_banned", "user_id"}  {"type":"user_unbanned", "user_id"}
 *   {"type":"moderator_added", "user_id"}  {"type":"moderator_removed", "user_id"}
 *   {"type":"ack", "nonce", "message_id"?}      the command is on the topic
 *   {"type":"error", "code", "message", "nonce"?, "retry_after_ms"?, "until"?}
 * Timestamps are ISO 8601 UTC. A message's sender also receives it from the topic, like everyone.
 */
const nonce = z.string().max(64).optional();
const userId = z.string().min(1).max(128);
const reason = z.string().max(200).nullish();

const FRAMES = {
  message: z.object({
    type: z.literal('message'),
    // Generous before cleaning (controls are stripped, length is checked after); the frame size caps it anyway.
    content: z.string().max(4000),
    color: z.string().max(16).nullish(),
    nonce,
  }),
  delete: z.object({ type: z.literal('delete'), message_id: z.string().min(1).max(64), nonce }),
  timeout: z.object({
    type: z.literal('timeout'),
    user_id: userId,
    duration_seconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS),
    reason,
    nonce,
  }),
  ban: z.object({ type: z.literal('ban'), user_id: userId, reason, nonce }),
  unban: z.object({ type: z.literal('unban'), user_id: userId, nonce }),
  add_moderator: z.object({ type: z.literal('add_moderator'), user_id: userId, nonce }),
  remove_moderator: z.object({ type: z.literal('remove_moderator'), user_id: userId, nonce }),
};
type FrameType = keyof typeof FRAMES;
type ClientFrame = { [K in FrameType]: z.output<(typeof FRAMES)[K]> }[FrameType];

export type Parsed =
  | { ok: true; command: ChatCommand; nonce: string | undefined }
  | {
      ok: false;
      code: Extract<ChatErrorCode, 'invalid_json' | 'invalid_frame' | 'unknown_frame_type'>;
      message: string;
      nonce: string | undefined;
    };

export function parseClientFrame(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'frames must be JSON text', nonce: undefined };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: 'invalid_frame', message: 'a frame is a JSON object with a "type"', nonce: undefined };
  }
  const obj = raw as Record<string, unknown>;
  const echo = typeof obj.nonce === 'string' && obj.nonce.length <= 64 ? obj.nonce : undefined;
  if (typeof obj.type !== 'string')
    return { ok: false, code: 'invalid_frame', message: 'a frame needs a string "type"', nonce: echo };
  if (!Object.hasOwn(FRAMES, obj.type)) {
    return {
      ok: false,
      code: 'unknown_frame_type',
      message: `unknown frame type "${obj.type.slice(0, 32)}"`,
      nonce: echo,
    };
  }
  const result = FRAMES[obj.type as FrameType].safeParse(obj);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, code: 'invalid_frame', message: `${where}${issue?.message ?? 'invalid frame'}`, nonce: echo };
  }
  return { ok: true, command: toCommand(result.data), nonce: result.data.nonce };
}

function toCommand(f: ClientFrame): ChatCommand {
  switch (f.type) {
    case 'message':
      return { type: 'SendMessage', content: f.content, color: f.color ?? null };
    case 'delete':
      return { type: 'DeleteMessage', messageId: f.message_id };
    case 'timeout':
      return { type: 'TimeoutUser', userId: f.user_id, durationSeconds: f.duration_seconds, reason: f.reason ?? null };
    case 'ban':
      return { type: 'BanUser', userId: f.user_id, reason: f.reason ?? null };
    case 'unban':
      return { type: 'UnbanUser', userId: f.user_id };
    case 'add_moderator':
      return { type: 'AddModerator', userId: f.user_id };
    case 'remove_moderator':
      return { type: 'RemoveModerator', userId: f.user_id };
    default: {
      const _exhaustive: never = f;
      return _exhaustive;
    }
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function messageBody(m: ArchivedMessage) {
  return {
    type: 'message' as const,
    message_id: m.messageId,
    user: { user_id: m.userId, username: m.username, badges: m.badges },
    content: m.content,
    color: m.color,
    timestamp: iso(m.sentAt),
  };
}

export const encode = {
  history: (messages: ArchivedMessage[], complete: boolean): string =>
    JSON.stringify({ type: 'history', messages: messages.map(messageBody), complete }),
  ack: (nonce: string | undefined, messageId?: string): string =>
    JSON.stringify({ type: 'ack', nonce: nonce ?? null, ...(messageId && { message_id: messageId }) }),
  error: (
    code: ChatErrorCode,
    message: string,
    extra: { nonce?: string | undefined; retryAfterMs?: number; until?: number } = {},
  ): string =>
    JSON.stringify({
      type: 'error',
      code,
      message,
      ...(extra.nonce !== undefined && { nonce: extra.nonce }),
      ...(extra.retryAfterMs !== undefined && { retry_after_ms: extra.retryAfterMs }),
      ...(extra.until !== undefined && { until: iso(extra.until) }),
    }),
  /** The frame every viewer gets for an event on the topic. */
  event: (event: ChatEvent): string => {
    const p = event.payload;
    switch (p.type) {
      case 'ChatMessageSent':
        return JSON.stringify(messageBody(lineOf(event, p)));
      case 'ChatMessageDeleted':
        return JSON.stringify({ type: 'message_deleted', message_id: p.messageId });
      case 'UserTimedOut':
        return JSON.stringify({
          type: 'user_timed_out',
          user_id: p.userId,
          until: iso(event.occurredAt + p.durationSeconds * 1000),
        });
      case 'UserBanned':
        return JSON.stringify({ type: 'user_banned', user_id: p.userId });
      case 'UserUnbanned':
        return JSON.stringify({ type: 'user_unbanned', user_id: p.userId });
      case 'ModeratorAdded':
        return JSON.stringify({ type: 'moderator_added', user_id: p.userId });
      case 'ModeratorRemoved':
        return JSON.stringify({ type: 'moderator_removed', user_id: p.userId });
      default: {
        const _exhaustive: never = p;
        return _exhaustive;
      }
    }
  },
};

/** A ChatMessageSent as the line a chat window shows; its time is the id's, as the archive gives it. */
export function lineOf(event: ChatEvent, p: ChatMessageSent): ArchivedMessage {
  return {
    messageId: p.messageId,
    userId: p.userId,
    username: p.username,
    badges: p.badges,
    content: p.content,
    color: p.color,
    sentAt: isTimeUuid(p.messageId) ? timeOfTimeUuid(p.messageId) : event.occurredAt,
  };
}
