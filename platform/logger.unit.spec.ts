import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { REDACT_PATHS } from './logger.ts';

describe('structured logs', () => {
  it('redact stream keys and bearer tokens wherever a careless log call puts them', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({ stream_key: 'live_secret1', req: { headers: { authorization: 'Bearer eyJsecret2' } } }, 'created');
    log.info({ body: { streamKey: 'live_secret3' }, token: 'secret4' }, 'again');
    const out = lines.join('');
    for (const secret of ['live_secret1', 'eyJsecret2', 'live_secret3', 'secret4']) {
      assert.ok(!out.includes(secret), `${secret} must not be logged`);
    }
    assert.equal(out.match(/\[redacted\]/g)?.length, 4);
  });
});
