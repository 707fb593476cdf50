import { isIP } from 'node:net';

/**
 * One spelling per address, so that limits keyed by address count each caller once: uWS writes
 * IPv6 in full (`0000:0000:0000:0000:0000:ffff:7f00:0001`), a dual-stack listener sees IPv4
 * callers as IPv4-mapped IPv6, and people write `::1`. IPv4 (mapped or not) becomes dotted
 * decimal; IPv6 becomes lower case with the longest run of zero groups compressed (RFC 5952).
 * Text that is not an address comes back trimmed, as it was.
 */
export function canonicalAddress(text: string): string {
  const a = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(a) !== 6) return a;
  const groups = expand(a);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  return compress(groups);
}

function expand(a: string): number[] {
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  const text = v4
    ? a.slice(0, v4.index) + [(+v4[1]! << 8) | +v4[2]!, (+v4[3]! << 8) | +v4[4]!].map((n) => n.toString(16)).join(':')
    : a;
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  return tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function compress(groups: number[]): string {
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/**
 * The key an address is counted under: IPv4 as it is (also when it comes IPv4-mapped), IPv6 by
 * its /64 prefix, since one subscriber is usually given a whole /64 and could otherwise take a
 * new address per connection.
 */
export function addressKey(remote: string): string {
  const a = canonicalAddress(remote);
  if (isIP(a) !== 6) return a;
  return `${expand(a)
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
