import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, parseClientFrame } from './protocol.ts';

describe('chat protocol', () => {
  it('turns each client frame into its command, keeping the nonce', () => {
    const cases: Array<[unknown, unknown]> = [
      [
        { type: 'message', content: 'hi', color: '#fff000', badges: ['ignored'] },
        { type: 'SendMessage', content: 'hi', color: '#fff000' },
      ],
      [
        { type: 'message', content: 'hi' },
        { type: 'SendMessage', content: 'hi', color: null },
      ],
      [
        { type: 'delete', message_id: 'm1' },
        { type: 'DeleteMessage', messageId: 'm1' },
      ],
      [
        { type: 'timeout', user_id: 'u', duration_seconds: 60 },
        { type: 'TimeoutUser', userId: 'u', durationSeconds: 60, reason: null },
      ],
      [
        { type: 'ban', user_id: 'u', reason: 'spam' },
        { type: 'BanUser', userId: 'u', reason: 'spam' },
      ],
      [
        { type: 'unban', user_id: 'u' },
        { type: 'UnbanUser', userId: 'u' },
      ],
      [
        { type: 'add_moderator', user_id: 'u' },
        { type: 'AddModerator', userId: 'u' },
      ],
      [
        { type: 'remove_moderator', user_id: 'u' },
        { type: 'RemoveModerator', userId: 'u' },
      ],
    ];
    for (const [frame, command] of cases) {
      assert.deepEqual(parseClientFrame(JSON.stringify({ ...(frame as object), nonce: 'n1' })), {
        ok: true,
        command,
        nonce: 'n1',
      });
    }
  });

  it('names what is wrong: not JSON, not a frame, an unknown type, a bad field', () => {
    const code = (text: string) => {
      const p = parseClientFrame(text);
      return p.ok ? 'ok' : p.code;
    };
    assert.equal(code('{"type":'), 'invalid_json');
    assert.equal(code('"message"'), 'invalid_frame');
    assert.equal(code('[]'), 'invalid_frame');
    assert.equal(code('null'), 'invalid_frame');
    assert.equal(code('{"content":"x"}'), 'invalid_frame');
    assert.equal(code('{"type":"hello"}'), 'unknown_frame_type');
    assert.equal(code('{"type":"__proto__"}'), 'unknown_frame_type');
    assert.equal(code('{"type":"message","content":7}'), 'invalid_frame');
    assert.equal(code('{"type":"timeout","user_id":"u","duration_seconds":0}'), 'invalid_frame');
    assert.equal(code('{"type":"timeout","user_id":"u","duration_seconds":1.5}'), 'invalid_frame');
    const bad = parseClientFrame('{"type":"ban","nonce":"n9"}');
    assert.deepEqual(
      bad.ok ? undefined : [bad.message.startsWith('user_id'), bad.nonce],
      [true, 'n9'],
      'the field is named and the nonce echoed',
    );
  });

  it('encodes the seed message frame, and errors with only the extras they have', () => {
    const line = {
      messageId: 'm1',
      userId: 'u1',
      username: 'Viewer',
      badges: ['moderator'],
      content: 'gg',
      color: null,
      sentAt: Date.UTC(2026, 1, 2, 10, 15, 30),
    };
    assert.deepEqual(JSON.parse(encode.history([line], true)), {
      type: 'history',
      complete: true,
      messages: [
        {
          type: 'message',
          message_id: 'm1',
          user: { user_id: 'u1', username: 'Viewer', badges: ['moderator'] },
          content: 'gg',
          color: null,
          timestamp: '2026-02-02T10:15:30.000Z',
        },
      ],
    });
    assert.deepEqual(JSON.parse(encode.error('rate_limited', 'slow down', { nonce: 'n', retryAfterMs: 1200 })), {
      type: 'error',
      code: 'rate_limited',
      message: 'slow down',
      nonce: 'n',
      retry_after_ms: 1200,
    });
    assert.deepEqual(JSON.parse(encode.ack(undefined)), { type: 'ack', nonce: null });
  });
});
