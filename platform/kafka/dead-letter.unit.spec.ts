import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDRIVE_HEADERS, versionOf } from './dead-letter.ts';

describe("versionOf: where a record ranks among its partition's events", () => {
  it('is its offset, or for a re-driven record the offset it first had in the same partition', () => {
    assert.equal(versionOf({}, 3, '120'), '120');
    assert.equal(versionOf({ [REDRIVE_HEADERS.origin]: Buffer.from('3@17') }, 3, '120'), '17');
    assert.equal(versionOf({ [REDRIVE_HEADERS.origin]: '3@17' }, 3, '120'), '17');
    // From another partition (the topic grew since): offsets there do not compare with these.
    assert.equal(versionOf({ [REDRIVE_HEADERS.origin]: '1@17' }, 3, '120'), '120');
    assert.equal(versionOf({ [REDRIVE_HEADERS.origin]: 'garbage' }, 3, '120'), '120');
  });
});
