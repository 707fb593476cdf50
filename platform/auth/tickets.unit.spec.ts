import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
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

  it("refuses a ticket issued before its user's tokens were revoked, and no one else's", async () => {
    let cut = -Infinity;
    const t = new Tickets(CHAT_TICKET, jwtKey, 30, {
      isRevoked: (userId, iat) => userId === alice.userId && iat < cut,
    });
    const bob = { userId: 'user_2', username: 'bob' };
    const [a, b] = [await t.issue(alice, 's1'), await t.issue(bob, 's1')];
    cut = Math.floor(Date.now() / 1000) + 1;
    await assert.rejects(t.verify(a, 's1'), /revoked/);
    assert.deepEqual(await t.verify(b, 's1'), bob);
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

describe('tickets are single-use', () => {
  it('a second use of a ticket is refused, on the same instance, even within its life', async () => {
    const t = new Tickets(CHAT_TICKET, jwtKey, 30);
    const ticket = await t.issue(alice, 's1');
    assert.deepEqual(await t.verify(ticket, 's1'), alice);
    await assert.rejects(t.verify(ticket, 's1'), { code: 'unauthorized', message: /already used/ });
    assert.deepEqual(await t.verify(await t.issue(alice, 's1'), 's1'), alice, 'a fresh ticket is fine');
  });

  it('a use that fails (wrong stream, bad signature) does not spend the ticket', async () => {
    const t = new Tickets(CHAT_TICKET, jwtKey, 30);
    const ticket = await t.issue(alice, 's1');
    await assert.rejects(t.verify(ticket, 's2'), { code: 'unauthorized' });
    assert.deepEqual(await t.verify(ticket, 's1'), alice);
  });

  it('two uses at once: exactly one wins', async () => {
    const t = new Tickets(PUSH_TICKET, jwtKey, 30);
    const ticket = await t.issue(alice);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => t.verify(ticket)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('remembers a used ticket until it expires, then forgets it; a ticket without an id is refused', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const t = new Tickets(CHAT_TICKET, jwtKey, 30, { clock: () => now });
    for (let i = 0; i < 3; i++) await t.verify(await t.issue(alice, 's1'), 's1');
    assert.equal(t.remembered, 3);
    now += 31_000;
    await t.verify(await t.issue(alice, 's1'), 's1');
    assert.equal(t.remembered, 1, 'the expired ones are gone');
    const key = createHmac('sha256', jwtKey).update(`${CHAT_TICKET.audience}/v1`).digest();
    const noJti = await new SignJWT({ name: 'alice', sid: 's1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_1')
      .setAudience(CHAT_TICKET.audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + 30)
      .sign(key);
    await assert.rejects(t.verify(noJti, 's1'), { code: 'unauthorized' });
  });

  it('memory is bounded: when full of unexpired tickets it refuses as unavailable (retriable) rather than forget one', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const t = new Tickets(CHAT_TICKET, jwtKey, 30, { clock: () => now, remember: 2 });
    const [a, b, c] = [await t.issue(alice, 's1'), await t.issue(alice, 's1'), await t.issue(alice, 's1')];
    await t.verify(a, 's1');
    await t.verify(b, 's1');
    const full = await t.verify(c, 's1').catch((e: unknown) => e);
    assert.equal((full as { retriable?: boolean }).retriable, true, String(full));
    now += 31_000;
    const d = await t.issue(alice, 's1');
    assert.deepEqual(await t.verify(d, 's1'), alice, 'room again once the others expired');
  });
});
