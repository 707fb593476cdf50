import { SOCKET_ERRORS, type ErrorAction, type SocketErrorCode } from '../../platform/http/socket-errors.ts';
import { CodedError } from '../../platform/errors.ts';

/**
 * The one table from viewer-gateway error codes to what the transport does with them
 * (ErrorAction). A Record over every code, so a new code without an entry does not compile.
 */
export type ViewerErrorCode =
  | SocketErrorCode
  | 'stream_not_found'
  | 'stream_not_live'
  | 'unknown_session'
  | 'stream_ended'
  | 'too_many_connections_from_address';

export const VIEWER_ERRORS: Record<ViewerErrorCode, ErrorAction> = {
  ...SOCKET_ERRORS,
  stream_not_found: { http: 404 },
  stream_not_live: { http: 409 },
  unknown_session: { http: 400 },
  stream_ended: { http: 410, close: { code: 1000, reason: 'stream ended' } },
  /** This address already holds its share of sockets (VIEWER_MAX_CONNECTIONS_PER_ADDRESS); refused before upgrade. */
  too_many_connections_from_address: { http: 429 },
};

export class ViewerError extends CodedError<ViewerErrorCode> {}

export const isViewerErrorCode = (c: unknown): c is ViewerErrorCode => typeof c === 'string' && c in VIEWER_ERRORS;
