import type { ChatRejection } from '../../domain/chat/decide.ts';

/**
 * The one table from chat error codes to what the transport does with them. Domain and protocol
 * code name what went wrong; only this table knows WebSocket close codes and HTTP statuses.
 * A code with `close` ends the connection with that close code (RFC 6455 §7.4); every other code
 * is an `{"type":"error"}` frame and the connection stays open. `http` is the status when the
 * same code answers an HTTP request or refuses a WebSocket upgrade. Typed as a Record over every
 * code, so a new code without an entry does not compile.
 */
export type ChatErrorCode =
  | ChatRejection
  | 'rate_limited'
  | 'duplicate_message'
  | 'invalid_json'
  | 'invalid_frame'
  | 'unknown_frame_type'
  | 'unauthorized'
  | 'unavailable'
  | 'invalid_request'
  | 'route_not_found'
  | 'origin_not_allowed'
  | 'too_many_connections'
  | 'internal'
  | 'binary_frame'
  | 'frame_too_large'
  | 'flood'
  | 'shutting_down';

export interface ErrorAction {
  http: number;
  close?: { code: number; reason: string };
}

export const CHAT_ERRORS: Record<ChatErrorCode, ErrorAction> = {
  stream_not_found: { http: 404 },
  chat_disabled: { http: 403 },
  banned: { http: 403 },
  timed_out: { http: 403 },
  forbidden: { http: 403 },
  invalid_target: { http: 400 },
  invalid_content: { http: 400 },
  rate_limited: { http: 429 },
  duplicate_message: { http: 409 },
  invalid_json: { http: 400 },
  invalid_frame: { http: 400 },
  unknown_frame_type: { http: 400 },
  unauthorized: { http: 401 },
  unavailable: { http: 503 },
  invalid_request: { http: 400 },
  route_not_found: { http: 404 },
  origin_not_allowed: { http: 403 },
  too_many_connections: { http: 503 },
  internal: { http: 500 },
  binary_frame: { http: 400, close: { code: 1003, reason: 'binary frames are not supported' } },
  frame_too_large: { http: 413, close: { code: 1009, reason: 'frame too large' } },
  flood: { http: 429, close: { code: 1008, reason: 'too many frames' } },
  shutting_down: { http: 503, close: { code: 1012, reason: 'service restart' } },
};

/** An error whose code the table knows; anything else thrown at the edge is `internal` (or `unavailable` when retriable). */
export class ChatError extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

export const isChatErrorCode = (c: unknown): c is ChatErrorCode => typeof c === 'string' && c in CHAT_ERRORS;
