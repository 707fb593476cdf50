/**
 * The one table from viewer-gateway error codes to what the transport does with them. A code with
 * `close` ends the connection with that close code (RFC 6455 §7.4); every other code is an
 * `{"type":"error"}` frame and the connection stays open. `http` is the status when the code
 * refuses a WebSocket upgrade. A Record over every code, so a new code without an entry does not
 * compile.
 */
export type ViewerErrorCode =
  | 'stream_not_found'
  | 'stream_not_live'
  | 'invalid_request'
  | 'invalid_json'
  | 'invalid_frame'
  | 'unknown_frame_type'
  | 'unknown_session'
  | 'origin_not_allowed'
  | 'too_many_connections'
  | 'route_not_found'
  | 'unavailable'
  | 'internal'
  | 'binary_frame'
  | 'frame_too_large'
  | 'flood'
  | 'stream_ended'
  | 'shutting_down';

export interface ErrorAction {
  http: number;
  close?: { code: number; reason: string };
}

export const VIEWER_ERRORS: Record<ViewerErrorCode, ErrorAction> = {
  stream_not_found: { http: 404 },
  stream_not_live: { http: 409 },
  invalid_request: { http: 400 },
  invalid_json: { http: 400 },
  invalid_frame: { http: 400 },
  unknown_frame_type: { http: 400 },
  unknown_session: { http: 400 },
  origin_not_allowed: { http: 403 },
  too_many_connections: { http: 503 },
  route_not_found: { http: 404 },
  unavailable: { http: 503 },
  internal: { http: 500 },
  binary_frame: { http: 400, close: { code: 1003, reason: 'binary frames are not supported' } },
  frame_too_large: { http: 413, close: { code: 1009, reason: 'frame too large' } },
  flood: { http: 429, close: { code: 1008, reason: 'too many frames' } },
  stream_ended: { http: 410, close: { code: 1000, reason: 'stream ended' } },
  shutting_down: { http: 503, close: { code: 1012, reason: 'service restart' } },
};

export class ViewerError extends Error {
  constructor(
    readonly code: ViewerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ViewerError';
  }
}

export const isViewerErrorCode = (c: unknown): c is ViewerErrorCode => typeof c === 'string' && c in VIEWER_ERRORS;
