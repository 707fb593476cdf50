import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTHENTICATED, UNAUTHENTICATED, bufferViolation, validChunkSize } from './session-limits.ts';

const state = (o: Partial<Parameters<typeof bufferViolation>[0]> = {}) => ({
  pendingBytes: 0,
  chunkSize: 128,
  chunkStreams: [{ messageLength: 300, bodyBytes: 300 }],
  ...o,
});

describe('RTMP session buffer limits', () => {
  it('allows what an encoder sends before its key is checked', () => {
    // ffmpeg's connect, in 128-byte chunks, on the control and command chunk streams.
    const s = state({
      chunkSize: 4096,
      chunkStreams: [
        { messageLength: 4, bodyBytes: 4 },
        { messageLength: 250, bodyBytes: 128 },
      ],
      pendingBytes: 1500,
    });
    assert.equal(bufferViolation(s, UNAUTHENTICATED), null);
  });

  it('refuses a declared message over the limit before its body arrives', () => {
    const s = state({ chunkStreams: [{ messageLength: 0xffffff, bodyBytes: 128 }] });
    assert.equal(bufferViolation(s, UNAUTHENTICATED), 'message_too_large');
    assert.equal(bufferViolation(s, AUTHENTICATED), null);
  });

  it('refuses a session holding too much in all, pending bytes included', () => {
    assert.equal(bufferViolation(state({ pendingBytes: 300 * 1024 }), UNAUTHENTICATED), 'session_buffer_full');
    const many = Array.from({ length: 8 }, () => ({ messageLength: 60_000, bodyBytes: 59_000 }));
    assert.equal(bufferViolation(state({ chunkStreams: many }), UNAUTHENTICATED), 'session_buffer_full');
    assert.equal(bufferViolation(state({ pendingBytes: 300 * 1024, chunkStreams: many }), AUTHENTICATED), null);
    assert.equal(bufferViolation(state({ pendingBytes: 65 * 1024 * 1024 }), AUTHENTICATED), 'session_buffer_full');
  });

  it('refuses too many chunk streams', () => {
    const streams = Array.from({ length: 17 }, () => ({ messageLength: 10, bodyBytes: 0 }));
    assert.equal(bufferViolation(state({ chunkStreams: streams }), UNAUTHENTICATED), 'too_many_chunk_streams');
    assert.equal(bufferViolation(state({ chunkStreams: streams }), AUTHENTICATED), null);
  });

  it('refuses a chunk size the library cannot read with, whatever the standing', () => {
    for (const size of [0, -1, NaN, 1.5, 2 ** 31]) {
      assert.equal(validChunkSize(size), false, String(size));
      assert.equal(bufferViolation(state({ chunkSize: size }), AUTHENTICATED), 'bad_chunk_size');
    }
    for (const size of [1, 128, 4096, 0x7fffffff]) assert.equal(validChunkSize(size), true);
  });

  it('treats a message length it cannot read as too large', () => {
    const s = state({ chunkStreams: [{ messageLength: NaN, bodyBytes: 0 }] });
    assert.equal(bufferViolation(s, AUTHENTICATED), 'message_too_large');
  });
});
