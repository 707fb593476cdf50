import { CodedError } from '../../platform/errors.ts';

/**
 * Why a stream command (or a read of one stream) was refused. Domain code names the reason; the gateway's error table maps
 * it to a transport status (HTTP here, close codes elsewhere).
 */
export type StreamErrorCode =
  'stream_not_found' | 'not_stream_owner' | 'stream_ended' | 'stream_exists' | 'too_many_open_streams';

export class StreamError extends CodedError<StreamErrorCode> {}
