import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress } from './rate-limits.ts';

const from = (remoteAddress: string, forwardedFor?: string) => {
  const headers: Record<string, string> = {};
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  return { remoteAddress, headers };
};

describe('the client address the write budgets are kept by', () => {
  it('is the peer, whatever it says it forwards, unless the peer is a trusted proxy', () => {
    const none = new Set<string>();
    assert.equal(clientAddress(from('203.0.113.9', '198.51.100.1'), none), '203.0.113.9');
    assert.equal(clientAddress(from('10.0.0.2', '198.51.100.1'), new Set(['10.0.0.1'])), '10.0.0.2');
  });

  it('behind trusted proxies, is the rightmost forwarded address that is not one of them', () => {
    const proxies = new Set(['10.0.0.1', '10.0.0.2']);
    assert.equal(clientAddress(from('10.0.0.1', '198.51.100.1'), proxies), '198.51.100.1');
    // A client's own header comes first; the proxies append what they saw.
    assert.equal(clientAddress(from('10.0.0.1', 'forged, 203.0.113.5, 10.0.0.2'), proxies), '203.0.113.5');
    assert.equal(clientAddress(from('10.0.0.1', '::ffff:203.0.113.5'), proxies), '203.0.113.5');
    assert.equal(clientAddress(from('10.0.0.1'), proxies), '10.0.0.1', 'no header: the proxy itself');
  });
});
