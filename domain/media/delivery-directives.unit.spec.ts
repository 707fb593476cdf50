import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EDGE_REJECTS, edgeRejection, parseDeliveryDirectives } from './delivery-directives.ts';

/**
 * nginx's `$arg_<name>` (ngx_http_arg): the first `<name>=` in the raw query, compared without
 * case, that starts the query or follows an `&`; its value runs to the next `&`, undecoded.
 */
function nginxArg(rawQuery: string, name: string): string | undefined {
  const lower = rawQuery.toLowerCase();
  const want = `${name.toLowerCase()}=`;
  for (let at = lower.indexOf(want); at >= 0; at = lower.indexOf(want, at + 1)) {
    if (at === 0 || rawQuery[at - 1] === '&') {
      const end = rawQuery.indexOf('&', at);
      return rawQuery.slice(at + want.length, end < 0 ? undefined : end);
    }
  }
  return undefined;
}

/** Every query of up to `n` parameters built from these names and values. */
function* queries(n: number): Generator<string> {
  const names = [
    '_HLS_msn',
    '_hls_msn',
    '_HLS_MSN',
    '%5FHLS_msn',
    '%5fhls%5fmsn',
    '_HLS_%6Dsn',
    '_%48LS_msn',
    '_HLS_part',
    '_Hls_part',
    '_HLS_skip',
    '_HLS_foo',
    '_HLSmsn',
    'x_HLS_msn',
    '+_HLS_msn',
    '_HLS_msn+',
    'player',
  ];
  const values = [null, '', '4', '04', '%34', '0', 'YES', 'v2', '4&', '1e3'];
  const pairs = names.flatMap((name) => values.map((v) => (v === null ? name : `${name}=${v}`)));
  let layer = [''];
  for (let i = 0; i < n; i++) {
    layer = layer.flatMap((q) => pairs.map((p) => (q ? `${q}&${p}` : p)));
    yield* layer;
  }
}

describe('HLS delivery directives', () => {
  it('reads _HLS_msn and _HLS_part, and names what is wrong with them', () => {
    assert.deepEqual(parseDeliveryDirectives(''), { ok: true, msn: null, part: null });
    assert.deepEqual(parseDeliveryDirectives('player=1'), { ok: true, msn: null, part: null });
    assert.deepEqual(parseDeliveryDirectives('_HLS_msn=45'), { ok: true, msn: 45, part: null });
    assert.deepEqual(parseDeliveryDirectives('_HLS_msn=45&_HLS_part=2'), { ok: true, msn: 45, part: 2 });
    assert.deepEqual(parseDeliveryDirectives('_HLS_msn=0&_HLS_skip=YES'), { ok: true, msn: 0, part: null });
    assert.deepEqual(parseDeliveryDirectives('_HLS_part=2'), { ok: false, reason: '_HLS_part without _HLS_msn' });
    for (const q of [
      '_HLS_msn=-1',
      '_HLS_msn=4e5',
      '_HLS_msn=1&_HLS_part=x',
      '_HLS_msn=',
      '_HLS_msn',
      '_HLS_skip=no',
    ]) {
      assert.equal(parseDeliveryDirectives(q).ok, false, q);
    }
  });

  it('refuses every spelling nginx and a URL parser could read differently', () => {
    for (const q of [
      '%5FHLS_msn=5',
      '_hls_msn=5',
      '_HLS_MSN=5',
      '_HLS_%6dsn=5',
      '_HLS_msn=5&_HLS_msn=6',
      '_hls_msn=5&_HLS_msn=6',
      '_HLS_msn=%35',
      '_HLS_msn=05',
      '_HLS_msn+=5',
      '_HLS_unknown=1',
    ]) {
      const parsed = parseDeliveryDirectives(q);
      assert.equal(parsed.ok, false, q);
      assert.notEqual(edgeRejection(q), null, q);
    }
    assert.match(String(edgeRejection('%5FHLS_msn=5')), /spelled _HLS_msn/);
    assert.equal(edgeRejection('_HLS_msn=5&_HLS_msn=6'), '_HLS_msn is given twice');
  });

  it("the edge's rules and the origin's parser agree on every query of up to two parameters, and on what passes nginx keys the origin's answer", () => {
    let accepted = 0;
    let refused = 0;
    for (const q of queries(2)) {
      const parsed = parseDeliveryDirectives(q);
      assert.equal(
        edgeRejection(q) === null,
        parsed.ok,
        `?${q}: edge ${edgeRejection(q)}, origin ${JSON.stringify(parsed)}`,
      );
      if (!parsed.ok) {
        refused++;
        continue;
      }
      accepted++;
      // What passes: nginx's cache key reads exactly the numbers the origin waits for.
      assert.equal(nginxArg(q, '_HLS_msn') ?? '', parsed.msn === null ? '' : String(parsed.msn), `?${q}`);
      assert.equal(nginxArg(q, '_HLS_part') ?? '', parsed.part === null ? '' : String(parsed.part), `?${q}`);
    }
    assert.ok(accepted > 1000 && refused > 1000, `${accepted} accepted, ${refused} refused`);
  });

  it('renders as patterns nginx can quote', () => {
    for (const r of EDGE_REJECTS) {
      assert.doesNotMatch(r.pattern + r.reason, /["\\]/);
      assert.doesNotThrow(() => new RegExp(r.pattern));
    }
  });
});
