import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PoisonRecordError } from '../errors.ts';
import { frame, unframe } from './wire.ts';

describe('Confluent wire format', () => {
  it('frames as magic byte 0, big-endian schema id, body', () => {
    const buf = frame(0x01020304, Buffer.from([9, 8]));
    assert.deepEqual([...buf], [0, 1, 2, 3, 4, 9, 8]);
    assert.deepEqual(unframe(buf), { schemaId: 0x01020304, body: Buffer.from([9, 8]) });
  });

  for (const [what, value] of [
    ['null (a tombstone)', null],
    ['shorter than the header', Buffer.from([0, 0, 1])],
    ['a JSON document', Buffer.from('{"a":1}')],
  ] as const) {
    it(`refuses ${what} as not-wire-format`, () => {
      assert.throws(
        () => unframe(value),
        (err: unknown) => err instanceof PoisonRecordError && err.reason === 'not-wire-format' && !err.retriable,
      );
    });
  }
});
