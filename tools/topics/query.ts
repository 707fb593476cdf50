/**
 * The pure part of the topic tools: `--where` filters and `--by` aggregation over decoded events.
 * Paths are dot-separated (`payload.type`, `payload.category`); values compare as strings.
 */
export type Predicate = (event: unknown) => boolean;

export function valueAt(event: unknown, path: string): unknown {
  let cur: unknown = event;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** `field=value`, `field!=value`, `field~substring`; several filters must all hold. */
export function parseWhere(clauses: string[]): Predicate {
  const tests = clauses.map((clause) => {
    const m = /^([\w.]+)\s*(!=|=|~)\s*(.*)$/.exec(clause);
    if (!m) throw new Error(`cannot read filter "${clause}": use field=value, field!=value or field~text`);
    const [, path, op, expected] = m as unknown as [string, string, string, string];
    return (e: unknown): boolean => {
      const v = valueAt(e, path);
      const s =
        v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number);
      if (op === '=') return s === expected;
      if (op === '!=') return s !== expected;
      return s.toLowerCase().includes(expected.toLowerCase());
    };
  });
  return (e) => tests.every((t) => t(e));
}

export interface Aggregate {
  total: number;
  groups: Array<{ key: string; count: number }>;
}

export class Counter {
  private total = 0;
  private readonly counts = new Map<string, number>();
  constructor(private readonly by: string | undefined) {}

  add(event: unknown): void {
    this.total++;
    if (!this.by) return;
    const v = valueAt(event, this.by);
    const key = v === undefined || v === null ? '(none)' : String(v as string);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  result(): Aggregate {
    const groups = [...this.counts.entries()]
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
    return { total: this.total, groups };
  }
}
