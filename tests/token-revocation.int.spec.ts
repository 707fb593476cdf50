import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { apiGateway, type ApiGateway } from '../gateways/api/gateway.ts';
import { mintToken } from '../platform/auth/tokens.ts';
import { createElasticsearch, type Elasticsearch } from '../platform/elasticsearch/client.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import { testApiSettings } from './support/api.ts';
import { testBus } from './support/bus.ts';
import { ChatClient, UpgradeRefused, getTicket } from './support/chat-client.ts';
import { endpoints, serverEnv } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { ServiceProcess } from './support/process.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitFor } from './support/wait.ts';

/**
 * Per-user token revocation (issue #28, finding 8) across processes: the HTTP API in process and a
 * chat gateway as a real process, sharing a key and real Kafka. A token works; the user's tokens
 * are revoked through the API; the API and the chat gateway then refuse the old token and a ticket
 * issued before, the user's open chat socket is closed, another user is untouched, and a token
 * issued after the cut works everywhere.
 */
const SECRET = 'revocation-spec-secret-0123456789abcdef';
const ORIGIN = 'http://allowed.example';
const TOKEN = { issuer: 'live-platform', audience: 'live-api' };

describe('token revocation: API and chat gateway against real Kafka', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let es: Elasticsearch;
  let api: ApiGateway;
  let apiBase: string;
  let chatPort: number;
  const processes: ServiceProcess[] = [];
  const clients: ChatClient[] = [];
  const S = `stream_${randomBytes(4).toString('hex')}`;
  const USER = `u_${randomBytes(4).toString('hex')}`;
  const OTHER = `u_${randomBytes(4).toString('hex')}`;
  let revokedBefore = 0;

  const token = (userId: string, admin = false): Promise<string> =>
    mintToken(new TextEncoder().encode(SECRET), TOKEN, { userId, username: userId.toUpperCase(), admin }, 600);
  /** A read that checks a bearer token when one is sent: 200, or 401 for a refused token. */
  const apiStatus = async (bearer: string): Promise<number> => {
    const res = await fetch(`${apiBase}/api/v1/streams/${S}/playback`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    await res.arrayBuffer();
    return res.status;
  };
  const ticketOf = async (bearer: string): Promise<{ status: number; ticket?: string }> => {
    const res = await getTicket(chatPort, S, bearer, ORIGIN);
    const body = (await res.json()) as { ticket?: string };
    return { status: res.status, ...(body.ticket && { ticket: body.ticket }) };
  };
  const connect = async (ticket: string): Promise<ChatClient> => {
    const c = await ChatClient.connect(chatPort, S, { ticket, origin: ORIGIN });
    clients.push(c);
    await c.next('history', (f) => f.type === 'history');
    return c;
  };

  before(async () => {
    bus = testBus('revocation');
    await bus.init(['streamLifecycle', 'userRevocations']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(S, { title: 'Revocation' }),
      streamEvents.wentLive(S),
    ]);
    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    api = apiGateway({
      bus,
      es,
      signingKey: new TextEncoder().encode(SECRET),
      settings: testApiSettings('revocation'),
      log: bus.log,
      metrics: bus.metrics,
    });
    for (const c of api.components) await c.start();
    apiBase = `http://127.0.0.1:${api.server.port}`;
    const chat = new ServiceProcess('chat-gateway', 'gateways/chat/main.ts', {
      ...serverEnv(bus.config.topicPrefix),
      CHAT_KEYSPACE: uniqueName('revocation'),
      CHAT_PORT: '0',
      METRICS_PORT: '0',
      API_JWT_SECRET: SECRET,
      CHAT_ALLOWED_ORIGINS: ORIGIN,
      LOG_LEVEL: 'info',
    });
    processes.push(chat);
    chatPort = (await chat.waitForLog('listening', (l) => l.msg === 'chat gateway listening', 90_000)).port as number;
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    for (const c of [...(api?.components ?? [])].reverse()) await c.stop();
    await producer?.disconnect();
    await es?.close();
  });

  it('a token works, is revoked, is then refused by the API and the chat gateway, and a newer token works', async () => {
    const old = await token(USER);
    const other = await token(OTHER);
    assert.equal(await apiStatus(old), 200);
    const before = await ticketOf(old);
    assert.equal(before.status, 200);
    const open = await connect(before.ticket!);
    const unused = await ticketOf(old);
    const bystander = await connect((await ticketOf(other)).ticket!);

    // Only the user or an operator may revoke.
    const denied = await fetch(`${apiBase}/api/v1/users/${USER}/tokens/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}` },
    });
    assert.equal(denied.status, 403);
    const res = await fetch(`${apiBase}/api/v1/users/${USER}/tokens/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('ops', true)}` },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { user_id: string; revoked_before: string };
    assert.equal(body.user_id, USER);
    revokedBefore = Date.parse(body.revoked_before);

    // The API that took the request refuses at once; the chat gateway once it has read the event.
    assert.equal(await apiStatus(old), 401);
    await waitFor('the open chat socket of the user is closed', () => open.closed);
    assert.equal(open.closed!.code, 1008);
    assert.equal((await ticketOf(old)).status, 401, 'no new ticket for the old token');
    const err = await ChatClient.connect(chatPort, S, { ticket: unused.ticket!, origin: ORIGIN }).then(
      (c) => (clients.push(c), undefined),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UpgradeRefused && err.status === 401, `a ticket issued before is refused: ${String(err)}`);

    assert.equal(bystander.closed, undefined, "another user's socket stays open");
    assert.equal(await apiStatus(other), 200);

    // Tokens carry whole seconds: a token issued from the cut on works everywhere.
    await waitFor('the clock passes the cut', () => Date.now() >= revokedBefore);
    const fresh = await token(USER);
    assert.equal(await apiStatus(fresh), 200);
    const after = await ticketOf(fresh);
    assert.equal(after.status, 200);
    await connect(after.ticket!);
  });
});
