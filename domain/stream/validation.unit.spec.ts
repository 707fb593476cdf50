import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../platform/validation.ts';
import { parseStartRequest, parseUpdateRequest } from './validation.ts';

const fieldsOf = (fn: () => unknown): Record<string, string> => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.fields;
    throw err;
  }
  assert.fail('expected a ValidationError');
};

describe('stream request validation', () => {
  it('accepts the seed request and fills defaults', () => {
    assert.deepEqual(
      parseStartRequest({ title: '  Dark Souls  ', category: 'Gaming', tags: ['DarkSouls', 'darksouls', 'soulslike'] }),
      {
        title: 'Dark Souls',
        category: 'Gaming',
        tags: ['darksouls', 'soulslike'],
        latencyMode: 'STANDARD',
        recordingEnabled: true,
        chatEnabled: true,
      },
    );
    assert.equal(parseStartRequest({ title: 't', category: 'c', latency_mode: 'ultra-low' }).latencyMode, 'ULTRA_LOW');
  });

  it('reports every bad field at once, each with its own message', () => {
    const fields = fieldsOf(() =>
      parseStartRequest({
        title: 'x'.repeat(201),
        category: '',
        tags: ['ok', 'y'.repeat(26), 'has space'],
        latency_mode: 'instant',
        enable_chat: 'yes',
        streamer: 'me',
      }),
    );
    assert.deepEqual(Object.keys(fields).sort(), [
      'category',
      'enable_chat',
      'latency_mode',
      'streamer',
      'tags[1]',
      'tags[2]',
      'title',
    ]);
    assert.match(fields.title!, /at most 200 characters/);
    assert.match(fields.latency_mode!, /standard, low, ultra-low/);
    assert.equal(fields.streamer, 'unknown field');
  });

  it('counts characters, not UTF-16 units, and refuses control characters', () => {
    assert.equal(parseStartRequest({ title: '🎮'.repeat(200), category: 'c' }).title.length, 400);
    assert.ok('title' in fieldsOf(() => parseStartRequest({ title: 'a\u0000b', category: 'c' })));
  });

  it('refuses more than ten tags and a missing title', () => {
    const fields = fieldsOf(() =>
      parseStartRequest({ category: 'c', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }),
    );
    assert.deepEqual(Object.keys(fields).sort(), ['tags', 'title']);
  });

  it('a body that is not an object is one problem with the whole body', () => {
    assert.deepEqual(Object.keys(fieldsOf(() => parseStartRequest([1, 2]))), ['(body)']);
  });

  it('an update needs at least one known field', () => {
    assert.deepEqual(parseUpdateRequest({ tags: [] }), { tags: [] });
    assert.ok('(body)' in fieldsOf(() => parseUpdateRequest({})));
    assert.equal(fieldsOf(() => parseUpdateRequest({ title: 'ok', status: 'live' })).status, 'unknown field');
  });
});
