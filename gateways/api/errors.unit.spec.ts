import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransientError } from '../../platform/errors.ts';
import { ValidationError } from '../../platform/validation.ts';
import { StreamError } from '../../domain/stream/errors.ts';
import { Unauthorized } from '../../platform/auth/tokens.ts';
import { errorReply } from './errors.ts';
import { RateLimited } from './rate-limits.ts';

const reply = (err: unknown) => errorReply(err, 5, () => undefined);

describe('error table', () => {
  it('maps domain codes to statuses with a stable body', () => {
    assert.deepEqual(reply(new StreamError('stream_ended', 'the stream has already ended')), {
      status: 409,
      headers: {},
      body: { error: { code: 'stream_ended', message: 'the stream has already ended' } },
    });
    assert.equal(reply(new StreamError('not_stream_owner', 'x')).status, 403);
    assert.equal(reply(new StreamError('stream_not_found', 'x')).status, 404);
  });

  it('400 carries the fields; 401 asks for a bearer token', () => {
    assert.deepEqual(reply(new ValidationError({ title: 'too long' })).body, {
      error: { code: 'invalid_request', message: 'invalid title', fields: { title: 'too long' } },
    });
    assert.equal(reply(new Unauthorized('no')).headers?.['www-authenticate'], 'Bearer realm="live-api"');
  });

  it('429 says when to come back', () => {
    assert.deepEqual(reply(new RateLimited(42, 'writes')), {
      status: 429,
      headers: { 'retry-after': '42' },
      body: { error: { code: 'rate_limited', message: 'too many writes; try again in 42 s' } },
    });
  });

  it('outages are 503 with Retry-After; anything unknown is a 500 that tells nothing and is reported', () => {
    const transient = reply(new TransientError('kafka is restarting'));
    assert.deepEqual([transient.status, transient.headers?.['retry-after']], [503, '5']);
    const seen: unknown[] = [];
    const boom = new Error('secret detail');
    const internal = errorReply(boom, 5, (e) => seen.push(e));
    assert.deepEqual(internal.body, { error: { code: 'internal', message: 'internal error' } });
    assert.deepEqual(seen, [boom]);
  });
});
