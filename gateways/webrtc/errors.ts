import { CodedError } from '../../platform/errors.ts';
import type { OfferProblem } from './sdp.ts';
import type { KeyRefusal } from '../../domain/stream/key-check.ts';

/** Every way a WHIP or WHEP request is refused, and the one table mapping each to its HTTP answer. */
export type WebRtcErrorCode =
  | OfferProblem
  | KeyRefusal
  | 'missing_key'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'not_live'
  | 'not_webrtc'
  | 'too_many_publishers'
  | 'too_many_viewers'
  | 'unknown_session'
  | 'not_found'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'too_many_sessions'
  | 'unavailable';

export class WebRtcError extends CodedError<WebRtcErrorCode> {
  /** Seconds to wait, where the refusal knows better than RETRY_AFTER_S (a rate limit's window). */
  retryAfterS?: number;
}

export const HTTP_STATUS: Record<WebRtcErrorCode, number> = {
  malformed_sdp: 400,
  unsupported_codecs: 400,
  wrong_direction: 400,
  missing_key: 401,
  malformed_key: 401,
  unknown_key: 401,
  stream_ended: 403,
  already_publishing: 409,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_live: 404,
  not_webrtc: 409,
  too_many_publishers: 503,
  too_many_viewers: 503,
  unknown_session: 404,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  too_many_sessions: 429,
  unavailable: 503,
};

/** Seconds a refused client waits before trying again, for the 503s. */
export const RETRY_AFTER_S: Partial<Record<WebRtcErrorCode, number>> = {
  too_many_sessions: 10,
  too_many_publishers: 30,
  too_many_viewers: 10,
  unavailable: 5,
};
