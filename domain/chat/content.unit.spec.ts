import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanColor, cleanContent } from './content.ts';

const ok = (raw: string): string => {
  const v = cleanContent(raw);
  assert.ok(v.ok, `accepted: ${JSON.stringify(raw)}`);
  return v.content;
};

describe('chat message content', () => {
  it('keeps ordinary text, emoji and joined emoji sequences as they are', () => {
    assert.equal(ok('Great gameplay! 🔥'), 'Great gameplay! 🔥');
    assert.equal(ok('👩‍👩‍👧 family'), '👩‍👩‍👧 family', 'the zero-width joiner is a format character, not a control');
  });

  it('normalises to NFC, so the same text is the same string', () => {
    assert.equal(ok('Cafe\u0301'), 'Caf\u00e9');
  });

  it('turns line breaks and tabs into spaces, strips other controls and trims', () => {
    assert.equal(ok('  hello\r\nworld\t!  '), 'hello world !');
    assert.equal(ok('a\u0000b\u0007c\u001bd\u007f\u009be'), 'abcde');
  });

  it('strips bidirectional overrides that would disguise text, and lone surrogates', () => {
    assert.equal(ok('evil\u202Egnp.exe'), 'evilgnp.exe');
    assert.equal(ok('x\ud800y'), 'xy');
  });

  it('refuses content that is empty once cleaned', () => {
    for (const raw of ['', '   ', '\u0000\u0001', '\n\t ', '\u202E'])
      assert.equal(cleanContent(raw).ok, false, JSON.stringify(raw));
  });

  it('counts characters as code points: 500 emoji pass, 501 do not', () => {
    assert.equal(ok('😀'.repeat(500)).length, 1000);
    const v = cleanContent('😀'.repeat(501));
    assert.deepEqual(v, { ok: false, reason: 'content is longer than 500 characters' });
  });

  it('measures length after cleaning: controls do not count', () => {
    assert.equal(ok('a'.repeat(500) + '\u0000'.repeat(100)).length, 500);
  });

  it('accepts #rrggbb colours in any case and refuses anything else', () => {
    assert.equal(cleanColor('#FF5733'), '#ff5733');
    for (const bad of ['red', '#fff', '#ff57331', 'ff5733', '#gg0000']) assert.equal(cleanColor(bad), undefined, bad);
  });
});
