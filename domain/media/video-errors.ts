import { CodedError } from '../../platform/errors.ts';

/** Why a video request was refused; the gateway's error table maps each code to a status. */
export type VideoErrorCode = 'video_not_found' | 'not_video_owner';

export class VideoError extends CodedError<VideoErrorCode> {}
