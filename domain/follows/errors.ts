import { CodedError } from '../../platform/errors.ts';

/**
 * Why a follow command was refused. Domain code names the reason; the API's error table maps it
 * to an HTTP status.
 */
export type FollowErrorCode = 'cannot_follow_self' | 'user_not_found' | 'already_following' | 'not_following';

export class FollowError extends CodedError<FollowErrorCode> {}
