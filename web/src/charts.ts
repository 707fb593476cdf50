import 'uplot/dist/uPlot.min.css';
import { h } from './dom.ts';

/**
 * Time-series panels as the API sends them (domain/ops/panels.ts through dashboard.ts), drawn with
 * uPlot. The library is imported when the first chart is drawn, so pages without charts never
 * load it.
 */
export interface ChartPanel {
  id: string;
  title: string;
  unit: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
}

const COLORS = ['#9147ff', '#00a86b', '#e8590c', '#1c7ed6', '#d6336c', '#f59f00', '#495057', '#0ca678'];

/** One time axis for a panel: each series' values at the union of its timestamps (gaps as null). */
export function aligned(series: ChartPanel['series']): Array<Array<number | null>> {
  const times = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const col: Array<number | null> = times.map(() => null);
    for (const [t, v] of s.points) col[at.get(t)!] = Number.isFinite(v) ? v : null;
    return col;
  });
  return [times, ...columns];
}

/** The newest value of a panel's first series, for a figure beside its chart. */
export function latest(p: ChartPanel): number | null {
  const points = p.series[0]?.points ?? [];
  return points.length ? points[points.length - 1]![1] : null;
}

/** Replaces `grid`'s content with one figure per panel; returns what destroys the charts. */
export async function drawPanels(
  grid: HTMLElement,
  panels: ChartPanel[],
  o: { height?: number; caption?: (p: ChartPanel) => string; range?: { start: number; end: number } } = {},
): Promise<() => void> {
  const { default: UPlot } = await import('uplot');
  const charts: Array<{ destroy: () => void }> = [];
  grid.replaceChildren();
  for (const p of panels) {
    const caption = o.caption?.(p) ?? `${p.title} (${p.unit})`;
    const box = h('figure', { class: 'chart-panel', 'data-panel': p.id }, h('figcaption', {}, caption));
    grid.append(box);
    if (!p.series.length) {
      box.append(h('p', { class: 'muted' }, 'No data in this range.'));
      continue;
    }
    // The figure's own width, now that the grid has laid it out.
    const width = Math.max(240, box.clientWidth - 16);
    const { range } = o;
    charts.push(
      new UPlot(
        {
          width,
          height: o.height ?? 220,
          // The whole window asked for, even while the data covers only its end (a fresh platform).
          ...(range && { scales: { x: { time: true, range: (): [number, number] => [range.start, range.end] } } }),
          series: [{}, ...p.series.map((s, i) => ({ label: s.name, stroke: COLORS[i % COLORS.length]!, width: 1.5 }))],
          axes: [{}, { size: 72 }],
          legend: { live: false },
        },
        aligned(p.series) as never,
        box,
      ),
    );
  }
  return () => {
    for (const c of charts) c.destroy();
  };
}
