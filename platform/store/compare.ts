import { isDeepStrictEqual } from 'node:util';

/** One way a rebuilt store differs from the live one. */
export interface Difference {
  key: string;
  kind: 'only-live' | 'only-rebuilt' | 'changed';
  live?: unknown;
  rebuilt?: unknown;
}

/** Differences between two keyed dumps, in key order. */
export function compareDumps(live: Map<string, unknown>, rebuilt: Map<string, unknown>): Difference[] {
  const keys = [...new Set([...live.keys(), ...rebuilt.keys()])].sort();
  const out: Difference[] = [];
  for (const key of keys) {
    const a = live.get(key);
    const b = rebuilt.get(key);
    if (!rebuilt.has(key)) out.push({ key, kind: 'only-live', live: a });
    else if (!live.has(key)) out.push({ key, kind: 'only-rebuilt', rebuilt: b });
    else if (!isDeepStrictEqual(a, b)) out.push({ key, kind: 'changed', live: a, rebuilt: b });
  }
  return out;
}

/** Fields whose values differ between two records, for a readable 'changed' line. */
export function changedFields(a: unknown, b: unknown): string[] {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => !isDeepStrictEqual(ra[k], rb[k])).sort();
}
