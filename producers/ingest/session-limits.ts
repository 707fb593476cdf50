/**
 * How much an RTMP session may make node-rtsp-rtmp-server hold, as a pure check the transport
 * runs after each parse step of the library.
 *
 * The library keeps, per session, the bytes it has not parsed yet (a chunk waits until its whole
 * payload is in, and the peer chooses the chunk size), and per chunk stream the message being
 * reassembled (up to the 24-bit message length: 16 MiB, declared by the peer) and the last
 * message's body. A peer that has not published with a valid key has sent nothing bigger than a
 * `connect` (well under 1 KiB from ffmpeg or OBS), so before that its limits are small; a
 * publisher's keyframes need the protocol's full room.
 */
export interface BufferLimits {
  /** Largest message length a chunk header may declare. */
  maxMessageBytes: number;
  /** Bytes waiting to be parsed plus the bodies held on every chunk stream. */
  maxSessionBytes: number;
  /** Chunk streams (RTMP chunk stream ids) in use; encoders use a handful. */
  maxChunkStreams: number;
}

/** Before a publish is accepted (or, from a puller, a play). */
export const UNAUTHENTICATED: BufferLimits = {
  maxMessageBytes: 64 * 1024,
  maxSessionBytes: 256 * 1024,
  maxChunkStreams: 16,
};

/** After it: the protocol's own largest message, a few of them at once. */
export const AUTHENTICATED: BufferLimits = {
  maxMessageBytes: 0xffffff,
  maxSessionBytes: 64 * 1024 * 1024,
  maxChunkStreams: 64,
};

export interface BufferedState {
  /** Bytes received and not parsed yet. */
  pendingBytes: number;
  /** The chunk size the peer set (Set Chunk Size); the library trusts any value. */
  chunkSize: number;
  /** Per chunk stream: the message length its header declared, and the body bytes held. */
  chunkStreams: Array<{ messageLength: number; bodyBytes: number }>;
}

export type BufferViolation = 'bad_chunk_size' | 'too_many_chunk_streams' | 'message_too_large' | 'session_buffer_full';

/**
 * The library computes its read size from the peer's chunk size; 0, NaN (a short Set Chunk Size)
 * or 2^31 and over (the top bit is reserved) leave it reading nonsense.
 */
export const validChunkSize = (size: number): boolean => Number.isInteger(size) && size >= 1 && size <= 0x7fffffff;

export function bufferViolation(state: BufferedState, limits: BufferLimits): BufferViolation | null {
  if (!validChunkSize(state.chunkSize)) return 'bad_chunk_size';
  if (state.chunkStreams.length > limits.maxChunkStreams) return 'too_many_chunk_streams';
  let held = state.pendingBytes;
  for (const cs of state.chunkStreams) {
    if (!(cs.messageLength <= limits.maxMessageBytes)) return 'message_too_large';
    held += cs.bodyBytes;
  }
  return held > limits.maxSessionBytes ? 'session_buffer_full' : null;
}
