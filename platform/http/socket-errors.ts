/**
 * What a WebSocket gateway's transport does with an error code. A code with `close` ends the
 * connection with that close code (RFC 6455 §7.4); every other code is an `{"type":"error"}`
 * frame and the connection stays open. `http` is the status when the code answers an HTTP
 * request or refuses a WebSocket upgrade.
 */
export interface ErrorAction {
  http: number;
  close?: { code: number; reason: string };
}

/**
 * The codes of the socket and its frames, whatever the gateway: each gateway's one table is these
 * plus its own domain's, so a client meets the same close code for the same fault everywhere.
 */
export const SOCKET_ERRORS = {
  invalid_request: { http: 400 },
  invalid_json: { http: 400 },
  invalid_frame: { http: 400 },
  unknown_frame_type: { http: 400 },
  origin_not_allowed: { http: 403 },
  route_not_found: { http: 404 },
  too_many_connections: { http: 503 },
  unavailable: { http: 503 },
  internal: { http: 500 },
  binary_frame: { http: 400, close: { code: 1003, reason: 'binary frames are not supported' } },
  frame_too_large: { http: 413, close: { code: 1009, reason: 'frame too large' } },
  flood: { http: 429, close: { code: 1008, reason: 'too many frames' } },
  shutting_down: { http: 503, close: { code: 1012, reason: 'service restart' } },
} as const satisfies Record<string, ErrorAction>;

export type SocketErrorCode = keyof typeof SOCKET_ERRORS;

/** How a connection closed for `action` ends: its own close, or 1011 for a code that only answers with a frame. */
export const closeFrameOf = (action: ErrorAction): { code: number; reason: string } =>
  action.close ?? { code: 1011, reason: 'internal error' };
