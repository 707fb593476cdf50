import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Authenticator, Unauthorized, mintToken } from './tokens.ts';

const settings = { issuer: 'live-platform', audience: 'live-api' };
const key = randomBytes(32);
const auth = new Authenticator(key, settings);
const alice = { userId: 'user_123', username: 'darksouls_pro' };

describe('bearer token authentication', () => {
  it('accepts a token it minted and names the user', async () => {
    assert.deepEqual(await auth.require(`Bearer ${await mintToken(key, settings, alice, 60)}`), alice);
  });

  it('refuses missing, malformed, expired, foreign, wrong-audience and unsigned tokens', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"user_123","name":"x"}').toString('base64url')}.x`;
    for (const header of [
      undefined,
      'Bearer',
      'Token abc.def.ghi',
      `Bearer ${await mintToken(key, settings, alice, -1)}`,
      `Bearer ${await mintToken(randomBytes(32), settings, alice, 60)}`,
      `Bearer ${await mintToken(key, { ...settings, audience: 'other' }, alice, 60)}`,
      `Bearer ${unsigned}`,
    ]) {
      await assert.rejects(auth.require(header), Unauthorized, String(header));
    }
  });

  it("an operator's token says admin; a roles claim that is not a list of roles does not", async () => {
    const ops = { userId: 'ops_1', username: 'ops', admin: true };
    assert.deepEqual(await auth.require(`Bearer ${await mintToken(key, settings, ops, 60)}`), ops);
    const { SignJWT } = await import('jose');
    const odd = await new SignJWT({ name: 'x', roles: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_9')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(key);
    assert.deepEqual(await auth.require(`Bearer ${odd}`), { userId: 'user_9', username: 'x' });
  });

  it('refuses a token without iat: revocation by time needs to know when a token was issued', async () => {
    const { SignJWT } = await import('jose');
    const undated = await new SignJWT({ name: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_9')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setExpirationTime('1m')
      .sign(key);
    await assert.rejects(auth.require(`Bearer ${undated}`), Unauthorized);
  });

  it('API_TOKENS_NOT_BEFORE revokes every token issued before it, and only those', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await mintToken(key, settings, alice, 3600, now - 600);
    const fresh = await mintToken(key, settings, alice, 3600, now);
    const revoking = new Authenticator(key, { ...settings, notBefore: now - 60 });
    await assert.rejects(revoking.require(`Bearer ${old}`), /issued before API_TOKENS_NOT_BEFORE/);
    assert.deepEqual(await revoking.require(`Bearer ${fresh}`), alice);
    assert.deepEqual(await auth.require(`Bearer ${old}`), alice, 'without it the old token is still good');
  });

  it("a user's revocation refuses that user's tokens issued before the cut, and no one else's", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cut = new Map([[alice.userId, now - 60]]);
    const revoking = new Authenticator(key, settings, (userId, iat) => iat < (cut.get(userId) ?? -Infinity));
    const old = await mintToken(key, settings, alice, 3600, now - 600);
    await assert.rejects(revoking.require(`Bearer ${old}`), /tokens were revoked after this one was issued/);
    assert.deepEqual(await revoking.require(`Bearer ${await mintToken(key, settings, alice, 3600, now)}`), alice);
    const bob = { userId: 'user_456', username: 'bob' };
    assert.deepEqual(await revoking.require(`Bearer ${await mintToken(key, settings, bob, 3600, now - 600)}`), bob);
  });

  it('a new key (rotating the key file) revokes every token signed with the old one', async () => {
    const token = await mintToken(key, settings, alice, 3600);
    await assert.rejects(new Authenticator(randomBytes(32), settings).require(`Bearer ${token}`), Unauthorized);
  });

  it('public reads are anonymous without a header, but a bad header is still refused', async () => {
    assert.equal(await auth.optional(undefined), undefined);
    await assert.rejects(auth.optional('Bearer a.b.c'), Unauthorized);
  });
});
