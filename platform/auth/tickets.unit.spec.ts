import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintToken } from './tokens.ts';
import { CHAT_TICKET, PUSH_TICKET, Tickets } from './tickets.ts';

const jwtKey = new TextEncoder().encode('k'.repeat(48));
const alice = { userId: 'user_1', username: 'alice' };

describe('chat tickets', () => {
  it('round-trips the user for the stream it was issued for', async () => {
    const t = new Tickets(CHAT_TICKET, jwtKey, 30);
    assert.deepEqual(await t.verify(await t.issue(alice, 's1'), 's1'), alice);
  });

  it('refuses a ticket for another stream, an expired one, and one signed with another key', async () => {
    const t = new Tickets(CHAT_TICKET, jwtKey, 30);
    await assert.rejects(t.verify(await t.issue(alice, 's1'), 's2'), { code: 'unauthorized' });
    const expired = await new Tickets(CHAT_TICKET, jwtKey, -1).issue(alice, 's1');
    await assert.rejects(t.verify(expired, 's1'), { code: 'unauthorized' });
    const foreign = await new Tickets(CHAT_TICKET, new TextEncoder().encode('x'.repeat(48)), 30).issue(alice, 's1');
    await assert.rejects(t.verify(foreign, 's1'), { code: 'unauthorized' });
  });

  it('an API bearer token is not a ticket', async () => {
    const t = new Tickets(CHAT_TICKET, jwtKey, 30);
    const token = await mintToken(jwtKey, { issuer: 'live-platform', audience: 'live-api' }, alice, 60);
    await assert.rejects(t.verify(token, 's1'), { code: 'unauthorized' });
  });

  it('a chat ticket is not a push ticket, nor the other way round', async () => {
    const chat = new Tickets(CHAT_TICKET, jwtKey, 30);
    const push = new Tickets(PUSH_TICKET, jwtKey, 30);
    await assert.rejects(push.verify(await chat.issue(alice, 's1')), { code: 'unauthorized' });
    await assert.rejects(chat.verify(await push.issue(alice), 's1'), { code: 'unauthorized' });
    assert.deepEqual(await push.verify(await push.issue(alice)), alice);
  });
});
