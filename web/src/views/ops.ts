import { ApiError, loadSession, request } from '../api.ts';
import { drawPanels, type ChartPanel } from '../charts.ts';
import { h } from '../dom.ts';

/**
 * The operator's view (/ops, admins only): every panel of the platform's dashboard
 * (domain/ops/panels.ts, read from Prometheus through the API) as a uPlot chart, and the alerts
 * pending or firing, refreshed every 15 s.
 */
interface Dashboard {
  range: { start: number; end: number; step: number };
  panels: ChartPanel[];
  alerts: Array<{ name: string; state: string; severity: string | null; summary: string; since: string | null }>;
}

const REFRESH_MS = 15_000;

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
  const grid = h('div', { class: 'chart-grid' });
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

  let destroyCharts: () => void = () => undefined;
  let timer: number | undefined;
  let gone = false;
  const controller = new AbortController();

  const load = async () => {
    try {
      const d = await request<Dashboard>(`/api/v1/admin/dashboard?minutes=${minutes.value}`, {
        auth: true,
        signal: controller.signal,
      });
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
      destroyCharts();
      destroyCharts = await drawPanels(grid, d.panels, { range: d.range });
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
    destroyCharts();
  };
}
