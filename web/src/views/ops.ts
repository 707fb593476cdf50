import 'uplot/dist/uPlot.min.css';
import { ApiError, loadSession, request } from '../api.ts';
import { h } from '../dom.ts';

/**
 * The operator's view (/ops, admins only): every panel of the platform's dashboard
 * (domain/ops/panels.ts, read from Prometheus through the API) as a uPlot chart, and the alerts
 * pending or firing, refreshed every 15 s. uPlot is loaded with the view, so viewers never fetch it.
 */
interface Dashboard {
  range: { start: number; end: number; step: number };
  panels: Array<{
    id: string;
    title: string;
    unit: string;
    series: Array<{ name: string; points: Array<[number, number]> }>;
  }>;
  alerts: Array<{ name: string; state: string; severity: string | null; summary: string; since: string | null }>;
}

const COLORS = ['#9147ff', '#00a86b', '#e8590c', '#1c7ed6', '#d6336c', '#f59f00', '#495057', '#0ca678'];
const REFRESH_MS = 15_000;

/** One time axis for a panel: each series' values at the union of its timestamps (gaps as null). */
function aligned(series: Dashboard['panels'][number]['series']): Array<Array<number | null>> {
  const times = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const col: Array<number | null> = times.map(() => null);
    for (const [t, v] of s.points) col[at.get(t)!] = Number.isFinite(v) ? v : null;
    return col;
  });
  return [times, ...columns];
}

export function opsView(root: HTMLElement): () => void {
  const session = loadSession();
  const minutes = h(
    'select',
    { name: 'minutes', 'aria-label': 'time range' },
    h('option', { value: '15' }, 'last 15 minutes'),
    h('option', { value: '60', selected: true }, 'last hour'),
    h('option', { value: '360' }, 'last 6 hours'),
    h('option', { value: '1440' }, 'last day'),
  );
  const status = h('p', { class: 'muted', role: 'status' }, session ? 'Loading…' : 'Sign in as an operator.');
  const alerts = h('ul', { class: 'alerts' });
  const grid = h('div', { class: 'ops-grid' });
  root.replaceChildren(
    h(
      'section',
      { class: 'panel wide' },
      h('h1', {}, 'Operations'),
      h('div', { class: 'ops-bar' }, minutes, status),
      h('h2', {}, 'Alerts'),
      alerts,
      grid,
    ),
  );
  if (!session) return () => undefined;

  let charts: Array<{ destroy: () => void }> = [];
  let timer: number | undefined;
  let gone = false;
  const controller = new AbortController();

  const load = async () => {
    try {
      const [d, { default: UPlot }] = await Promise.all([
        request<Dashboard>(`/api/v1/admin/dashboard?minutes=${minutes.value}`, {
          auth: true,
          signal: controller.signal,
        }),
        import('uplot'),
      ]);
      if (gone) return;
      alerts.replaceChildren(
        ...(d.alerts.length
          ? d.alerts.map((a) =>
              h(
                'li',
                { class: `alert ${a.state}`, 'data-alert': a.name },
                h('strong', {}, a.name),
                ` ${a.state}${a.severity ? ` (${a.severity})` : ''}: ${a.summary}`,
              ),
            )
          : [h('li', { class: 'muted' }, 'Nothing pending or firing.')]),
      );
      for (const c of charts) c.destroy();
      charts = [];
      grid.replaceChildren();
      const width = Math.max(280, Math.floor((grid.clientWidth || 960) / 2) - 24);
      for (const p of d.panels) {
        const box = h(
          'figure',
          { class: 'ops-panel', 'data-panel': p.id },
          h('figcaption', {}, `${p.title} (${p.unit})`),
        );
        grid.append(box);
        if (!p.series.length) {
          box.append(h('p', { class: 'muted' }, 'No data in this range.'));
          continue;
        }
        charts.push(
          new UPlot(
            {
              width,
              height: 220,
              series: [
                {},
                ...p.series.map((s, i) => ({ label: s.name, stroke: COLORS[i % COLORS.length]!, width: 1.5 })),
              ],
              axes: [{}, { size: 60 }],
              legend: { live: false },
            },
            aligned(p.series) as never,
            box,
          ),
        );
      }
      status.textContent = `Updated ${new Date().toLocaleTimeString()}; every 15 s.`;
    } catch (err) {
      if (gone) return;
      status.textContent =
        err instanceof ApiError && err.status === 403
          ? 'Only operators see this page: sign in with a token that has the admin role (npm run token -- --admin).'
          : `Could not load the dashboard: ${(err as Error).message}`;
    } finally {
      if (!gone) timer = window.setTimeout(() => void load(), REFRESH_MS);
    }
  };
  minutes.addEventListener('change', () => {
    clearTimeout(timer);
    void load();
  });
  void load();
  return () => {
    gone = true;
    clearTimeout(timer);
    controller.abort();
    for (const c of charts) c.destroy();
  };
}
