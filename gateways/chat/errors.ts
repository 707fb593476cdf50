import type { ChatRejection } from '../../domain/chat/decide.ts';
import { SOCKET_ERRORS, type ErrorAction, type SocketErrorCode } from '../../platform/http/socket-errors.ts';
import { CodedError } from '../../platform/errors.ts';

/**
 * The one table from chat error codes to what the transport does with them (ErrorAction). Domain
 * and protocol code name what went wrong; only this table knows WebSocket close codes and HTTP
 * statuses. Typed as a Record over every code, so a new code without an entry does not compile.
 */
export type ChatErrorCode =
  ChatRejection | SocketErrorCode | 'rate_limited' | 'duplicate_message' | 'unauthorized' | 'token_revoked';

export const CHAT_ERRORS: Record<ChatErrorCode, ErrorAction> = {
  ...SOCKET_ERRORS,
  stream_not_found: { http: 404 },
  chat_disabled: { http: 403 },
  banned: { http: 403 },
  timed_out: { http: 403 },
  forbidden: { http: 403 },
  invalid_target: { http: 400 },
  invalid_content: { http: 400 },
  rate_limited: { http: 429 },
  duplicate_message: { http: 409 },
  unauthorized: { http: 401 },
  // The user's tokens were revoked (live.user.revocations) while this socket was open.
  token_revoked: { http: 401, close: { code: 1008, reason: 'tokens revoked: sign in again' } },
};

/** An error whose code the table knows; anything else thrown at the edge is `internal` (or `unavailable` when retriable). */
export class ChatError extends CodedError<ChatErrorCode> {}

export const isChatErrorCode = (c: unknown): c is ChatErrorCode => typeof c === 'string' && c in CHAT_ERRORS;
