/**
 * HLS delivery directives (RFC 8216bis §6.2.5): the `_HLS_msn`, `_HLS_part` and `_HLS_skip` query
 * parameters of a playlist request, read the same way by the edge (nginx) and the origin. Pure.
 *
 * Why one strict reading: the edge caches a blocking reload under
 * `$uri|$arg__HLS_msn|$arg__HLS_part`, and nginx's `$arg_` matches a name in any case, takes the
 * first of duplicates and never decodes (`%5FHLS_msn` is not `_HLS_msn` to it), while the
 * origin's URL parser decodes and is case-sensitive. A request the two read differently put the
 * origin's answer for one request under another's key: `?%5FHLS_msn=4` cached a held answer (kept
 * six target durations) as the plain playlist, `?_hls_msn=6&_HLS_msn=5` cached the answer for 5 as
 * the one for 6. So both refuse (400) every query where the two readings could differ:
 *   - a parameter whose name, decoded and in any case, starts with `_hls_` but is not literally
 *     `_HLS_msn`, `_HLS_part` or `_HLS_skip` (no escapes, no other case, no other directive);
 *   - a directive given twice;
 *   - a value not in canonical form: `_HLS_msn` and `_HLS_part` decimal without leading zeros or
 *     escapes (`_HLS_msn=04` and `=%34` would be cache keys of their own), `_HLS_skip` YES or v2;
 *   - `_HLS_part` without `_HLS_msn` (the RFC makes that a client error).
 * What passes has one reading: the literal values after `_HLS_msn=` and `_HLS_part=`, which are
 * nginx's key too. `_HLS_skip` passes and is ignored: no delta updates are offered (no
 * CAN-SKIP-UNTIL), so the answer is the whole playlist, the same with it or without it.
 *
 * `parseDeliveryDirectives` is the origin's reading; `EDGE_REJECTS` the same rules as regular
 * expressions over the raw query string, which nginx-conf.ts renders into the edge's config
 * (PCRE and JavaScript read them alike); a unit spec holds the two to the same answers.
 */
export type Directives = { ok: true; msn: number | null; part: number | null } | { ok: false; reason: string };

const NAMES = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;
type Name = (typeof NAMES)[number];
const VALUE: Record<Name, RegExp> = {
  _HLS_msn: /^(?:0|[1-9][0-9]{0,14})$/,
  _HLS_part: /^(?:0|[1-9][0-9]{0,8})$/,
  _HLS_skip: /^(?:YES|v2)$/,
};
const MEANT: Record<Name, string> = {
  _HLS_msn: 'a media sequence number (decimal, no leading zeros)',
  _HLS_part: 'a part index (decimal, no leading zeros)',
  _HLS_skip: 'YES or v2',
};
export const SPELLING = 'delivery directives are spelled _HLS_msn, _HLS_part and _HLS_skip, in that case and unescaped';

/** The directives of a raw (undecoded) query string, or why it is refused. */
export function parseDeliveryDirectives(rawQuery: string): Directives {
  const seen = new Map<Name, string>();
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    // The name as a URL parser reads it (decoded, + as space), to catch every spelling of the prefix.
    const decoded = [...new URLSearchParams(`${rawName}=`).keys()][0] ?? '';
    const canonical = (NAMES as readonly string[]).includes(rawName);
    if (!canonical && !decoded.toLowerCase().startsWith('_hls_')) continue;
    if (!canonical) return { ok: false, reason: `${SPELLING}, not ${rawName}` };
    const name = rawName as Name;
    if (seen.has(name)) return { ok: false, reason: `${name} is given twice` };
    const value = eq < 0 ? null : pair.slice(eq + 1);
    if (value === null || !VALUE[name].test(value)) return { ok: false, reason: `${name} must be ${MEANT[name]}` };
    seen.set(name, value);
  }
  if (seen.has('_HLS_part') && !seen.has('_HLS_msn')) return { ok: false, reason: '_HLS_part without _HLS_msn' };
  const msn = seen.get('_HLS_msn');
  const part = seen.get('_HLS_part');
  return { ok: true, msn: msn === undefined ? null : Number(msn), part: part === undefined ? null : Number(part) };
}

// The same rules over the raw query string, for nginx: a name is separated by & (or starts the
// string) and ends at =, & or the end. Each letter of the prefix may be escaped, in any case.
const START = '(?:^|&)';
const END = '(?:[=&]|$)';
const PREFIX = ['(?:_|%5[fF])', '(?:[hH]|%[46]8)', '(?:[lL]|%[46][cC])', '(?:[sS]|%[57]3)', '(?:_|%5[fF])'].join('');

/** A raw query matching one of these is refused with its reason; one matching none has one reading. */
export const EDGE_REJECTS: readonly { pattern: string; reason: string }[] = [
  {
    pattern: `${START}(?!(?:${NAMES.join('|')})${END})${PREFIX}`,
    reason: SPELLING,
  },
  ...NAMES.map((name) => ({
    pattern: `${START}${name}${END}.*&${name}${END}`,
    reason: `${name} is given twice`,
  })),
  ...NAMES.map((name) => ({
    pattern: `${START}${name}(?!=${VALUE[name].source.slice(1, -1)}(?:&|$))`,
    reason: `${name} must be ${MEANT[name]}`,
  })),
  {
    pattern: `^(?!(?:.*&)?_HLS_msn=)(?:.*&)?_HLS_part=`,
    reason: '_HLS_part without _HLS_msn',
  },
];

/** What the edge's rules say of a raw query: the first reason that matches, or null. */
export function edgeRejection(rawQuery: string): string | null {
  return EDGE_REJECTS.find((r) => new RegExp(r.pattern).test(rawQuery))?.reason ?? null;
}
