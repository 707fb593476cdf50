import { SOCKET_ERRORS, type ErrorAction, type SocketErrorCode } from '../../platform/http/socket-errors.ts';
import { CodedError } from '../../platform/errors.ts';

/**
 * The one table from push-gateway error codes to what the transport does with them
 * (ErrorAction). A Record over every code, so a new code without an entry does not compile.
 */
export type PushErrorCode = SocketErrorCode | 'unauthorized' | 'rate_limited';

export const PUSH_ERRORS: Record<PushErrorCode, ErrorAction> = {
  ...SOCKET_ERRORS,
  unauthorized: { http: 401 },
  rate_limited: { http: 429 },
};

export class PushError extends CodedError<PushErrorCode> {}

export const isPushErrorCode = (c: unknown): c is PushErrorCode => typeof c === 'string' && c in PUSH_ERRORS;
