import type { Json } from '@duckdb/node-api';

/** How `npm run sql` prints a result: an aligned table, CSV (RFC 4180) or JSON lines. */
export type Format = 'table' | 'csv' | 'json';

const text = (v: Json): string => (v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export function formatTable(columns: string[], rows: Json[][]): string {
  const cells = [columns, ...rows.map((r) => r.map(text))];
  const numeric = columns.map(
    (_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number'),
  );
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const count = `(${rows.length} row${rows.length === 1 ? '' : 's'})`;
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line), count].join('\n');
}

const csvCell = (v: Json): string => {
  const s = text(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function formatCsv(columns: string[], rows: Json[][]): string {
  return [columns, ...rows].map((r) => (r as Json[]).map(csvCell).join(',')).join('\n');
}

export function formatJson(columns: string[], rows: Json[][]): string {
  return rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]])))).join('\n');
}

export function format(f: Format, columns: string[], rows: Json[][]): string {
  switch (f) {
    case 'table':
      return formatTable(columns, rows);
    case 'csv':
      return formatCsv(columns, rows);
    case 'json':
      return formatJson(columns, rows);
    default: {
      const _exhaustive: never = f;
      return _exhaustive;
    }
  }
}
