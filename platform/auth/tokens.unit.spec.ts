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
      .setExpirationTime('1m')
      .sign(key);
    assert.deepEqual(await auth.require(`Bearer ${odd}`), { userId: 'user_9', username: 'x' });
  });

  it('public reads are anonymous without a header, but a bad header is still refused', async () => {
    assert.equal(await auth.optional(undefined), undefined);
    await assert.rejects(auth.optional('Bearer a.b.c'), Unauthorized);
  });
});
