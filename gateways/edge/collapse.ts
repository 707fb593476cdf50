/**
 * What the edge's collapser (collapser.ts) may answer from one origin request. Pure.
 *
 * Requests with the same key get the same answer: the leader's. The key follows nginx's cache key
 * (`$uri|$arg__HLS_msn|$arg__HLS_part`, see nginx-conf.ts): other query strings a player adds do
 * not split it, as they do not split the cache, since the origin answers the path and those two
 * directives alone (domain/media/delivery-directives.ts; nginx refuses with 400 every query the
 * two could read differently, and a query that still reads as refused here is keyed whole). The
 * path is the raw one nginx forwards (two spellings of one path are two keys: less collapsing,
 * never a wrong answer). Conditional and range headers are part of the key: nginx sends them only
 * to revalidate what it holds, and a 304 or 206 is no answer to a request that did not ask for one.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { parseDeliveryDirectives } from '../../domain/media/delivery-directives.ts';

const KEYED_HEADERS = ['if-none-match', 'if-modified-since', 'range', 'if-range'] as const;

/** The key requests share an origin request under, or null for one that goes alone (not GET/HEAD). */
export function collapseKey(
  method: string | undefined,
  url: string | undefined,
  headers: IncomingHttpHeaders,
): string | null {
  if ((method !== 'GET' && method !== 'HEAD') || !url) return null;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const d = parseDeliveryDirectives(q < 0 ? '' : url.slice(q + 1));
  const target = d.ok ? `${path}|${d.msn ?? ''}|${d.part ?? ''}` : url;
  const conditions = KEYED_HEADERS.map((h) => headers[h] ?? '').join('|');
  return `${method} ${target}|${conditions}`;
}

/** RFC 9110 §7.6.1: meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `headers` less the hop-by-hop ones, those the Connection header names included. */
export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}
