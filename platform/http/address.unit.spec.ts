import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalAddress } from './address.ts';

describe('canonical addresses', () => {
  it('spells each address one way, whichever way uWS or a person wrote it', () => {
    for (const [text, canonical] of [
      ['127.0.0.1', '127.0.0.1'],
      ['0000:0000:0000:0000:0000:ffff:7f00:0001', '127.0.0.1'],
      ['::ffff:203.0.113.7', '203.0.113.7'],
      ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
      ['[::1]', '::1'],
      ['2001:0DB8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
      [' 198.51.100.9 ', '198.51.100.9'],
      ['not an address', 'not an address'],
    ]) {
      assert.equal(canonicalAddress(text!), canonical, text);
    }
  });
});
