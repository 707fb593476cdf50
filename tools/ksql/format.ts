/** Rows as an aligned text table for a terminal. */
export function formatTable(columns: string[], rows: unknown[][]): string {
  const cells = [columns, ...rows.map((r) => r.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/**
 * Pull queries cannot ORDER BY, so the ranking of a day's peaks happens here: highest peak first,
 * ties by stream id, as [rank, stream, peak] rows.
 */
export function rankByPeak(columns: string[], rows: unknown[][], limit: number): unknown[][] {
  const id = columns.findIndex((c) => c.toUpperCase() === 'STREAMID');
  const peak = columns.findIndex((c) => c.toUpperCase() === 'PEAK_VIEWERS');
  if (id < 0 || peak < 0) throw new Error(`expected STREAMID and PEAK_VIEWERS columns, got ${columns.join(', ')}`);
  return rows
    .map((r) => ({ stream: String(r[id]), peak: Number(r[peak]) }))
    .sort((a, b) => b.peak - a.peak || a.stream.localeCompare(b.stream))
    .slice(0, limit)
    .map((r, i) => [i + 1, r.stream, r.peak]);
}
