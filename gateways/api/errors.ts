import { edgeCodeOf } from '../../platform/errors.ts';
import type { HttpReply, TransportRejection } from '../../platform/http/server.ts';
import type { FollowErrorCode } from '../../domain/follows/errors.ts';
import type { StreamErrorCode } from '../../domain/stream/errors.ts';
import type { VideoErrorCode } from '../../domain/media/video-errors.ts';
import type { RateLimited } from './rate-limits.ts';

/**
 * The one table from error codes to HTTP statuses. Domain code names what went wrong (a code);
 * only this gateway knows what that means in HTTP. Typed as a Record over every code, so a new
 * code without a status does not compile.
 *
 * Every error body is `{"error": {"code", "message", "fields"?}}`; `fields` maps each bad input
 * field to its message.
 */
export type ErrorCode =
  | StreamErrorCode
  | VideoErrorCode
  | FollowErrorCode
  | TransportRejection
  | RateLimited['code']
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden_origin'
  | 'search_unavailable'
  | 'not_admin'
  | 'metrics_unavailable'
  | 'unavailable'
  | 'internal';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  cannot_follow_self: 400,
  unauthorized: 401,
  not_stream_owner: 403,
  not_video_owner: 403,
  forbidden_origin: 403,
  not_admin: 403,
  stream_not_found: 404,
  video_not_found: 404,
  route_not_found: 404,
  user_not_found: 404,
  stream_ended: 409,
  stream_exists: 409,
  too_many_open_streams: 409,
  already_following: 409,
  not_following: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  search_unavailable: 503,
  metrics_unavailable: 503,
  unavailable: 503,
};

const isCode = (c: unknown): c is ErrorCode => typeof c === 'string' && c in HTTP_STATUS;

/** `onInternal` sees the errors the client is told nothing about (500s), to log them. */
export function errorReply(err: unknown, retryAfterS: number, onInternal: (err: unknown) => void): HttpReply {
  const code: ErrorCode = edgeCodeOf(err, isCode);
  const status = HTTP_STATUS[code];
  if (code === 'internal') onInternal(err);
  const fields = (err as { fields?: Record<string, string> }).fields;
  const message =
    code === 'internal'
      ? 'internal error'
      : code === 'unavailable'
        ? 'temporarily unavailable; try again shortly'
        : (err as Error).message;
  const headers: Record<string, string> = {};
  if (status === 503) headers['retry-after'] = String(retryAfterS);
  if (status === 429) headers['retry-after'] = String((err as RateLimited).retryAfterS);
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="live-api"';
  return { status, headers, body: { error: { code, message, ...(fields && { fields }) } } };
}
