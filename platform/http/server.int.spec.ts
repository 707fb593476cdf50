import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { waitFor } from '../../tests/support/wait.ts';
import { createLogger } from '../logger.ts';
import { Metrics } from '../metrics.ts';
import { HttpServer, type HttpRequest } from './server.ts';

const make = (gate: Promise<void>) =>
  new HttpServer({
    name: 'spec',
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1000,
    routes: [
      {
        method: 'get',
        path: '/slow/:id',
        handle: async (req: HttpRequest) => {
          await gate;
          return { status: 200, body: { id: req.params.id, q: req.query.get('q') } };
        },
      },
      { method: 'post', path: '/echo', body: true, handle: async (req) => ({ status: 200, body: req.body }) },
    ],
    onError: (err) => ({ status: 500, body: { error: String(err) } }),
    log: createLogger('spec', 'silent'),
    metrics: new Metrics('spec', { defaults: false }),
  });

describe('uWS HTTP server', () => {
  it('stop() lets a request in flight finish, and does not wait for a client that vanished mid-body', async () => {
    let release!: () => void;
    const server = make(new Promise<void>((r) => (release = r)));
    await server.start();
    const port = server.port;

    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"a":',
    );
    await waitFor('the partial upload to arrive', () => server.inFlightCount === 1);
    socket.destroy();
    await waitFor('the abandoned upload to be forgotten', () => server.inFlightCount === 0);

    const slow = fetch(`http://127.0.0.1:${port}/slow/a%20b?q=x`);
    await waitFor('the slow request to arrive', () => server.inFlightCount === 1);
    let stopped = false;
    const stopping = server.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'stop waits for the request in flight');
    release();
    const res = await slow;
    assert.deepEqual(await res.json(), { id: 'a b', q: 'x' });
    await stopping;
    await assert.rejects(fetch(`http://127.0.0.1:${port}/slow/x`), 'no longer listening');
  });

  it('echoes a JSON body with multi-byte characters intact', async () => {
    const server = make(Promise.resolve());
    await server.start();
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'ü'.repeat(100) }),
      });
      assert.deepEqual(await res.json(), { title: 'ü'.repeat(100) });
    } finally {
      await server.stop();
    }
  });
});
