import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { SchemaRegistryClient } from './registry.ts';

describe('schema registry client credentials', () => {
  it('keeps credentials out of its URL and sends them as basic auth', async () => {
    const seen: Array<string | undefined> = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end('{"is_compatible":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const client = new SchemaRegistryClient(`http://live:s%40cret@127.0.0.1:${port}/apis/ccompat/v7`);
      assert.equal(client.url, `http://127.0.0.1:${port}/apis/ccompat/v7`);
      assert.deepEqual(await client.isCompatible('t-value', { type: 'string' }), { compatible: true, messages: [] });
      assert.deepEqual(seen, [`Basic ${Buffer.from('live:s@cret').toString('base64')}`]);
    } finally {
      server.close();
    }
  });
});
