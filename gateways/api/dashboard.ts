import { PANELS, legendOf, stepSeconds } from '../../domain/ops/panels.ts';
import type { Authenticator } from '../../platform/auth/tokens.ts';
import type { HttpReply, Route } from '../../platform/http/server.ts';
import type { PrometheusClient } from '../../platform/prometheus.ts';
import { ValidationError } from '../../platform/validation.ts';

/**
 * The operator dashboard's data, for admins only: every panel of domain/ops/panels.ts over the
 * last `minutes` from Prometheus, and the alerts pending or firing. Prometheus is asked from here,
 * never from the browser: its API is not exposed, and a viewer's token cannot reach it.
 */
export class NotAdmin extends Error {
  readonly code = 'not_admin';
  constructor() {
    super('only an operator (a token with the admin role) may see the dashboard');
  }
}

export class MetricsNotConfigured extends Error {
  readonly code = 'metrics_unavailable';
  readonly retriable = true;
  constructor() {
    super('no Prometheus is configured (API_PROMETHEUS_URL)');
  }
}

const MINUTES = [15, 60, 360, 1440];

export function dashboardRoutes(deps: { auth: Authenticator; prometheus?: PrometheusClient }): Route[] {
  return [
    {
      method: 'get',
      path: '/api/v1/admin/dashboard',
      handle: async (req): Promise<HttpReply> => {
        const who = await deps.auth.require(req.headers.authorization);
        if (!who.admin) throw new NotAdmin();
        const minutes = Number(req.query.get('minutes') ?? 60);
        if (!MINUTES.includes(minutes))
          throw new ValidationError({ minutes: `minutes must be one of ${MINUTES.join(', ')}` });
        if (!deps.prometheus) throw new MetricsNotConfigured();
        const prometheus = deps.prometheus;
        const end = Math.floor(Date.now() / 1000);
        const range = { start: end - minutes * 60, end, step: stepSeconds(minutes) };
        const [panels, alerts] = await Promise.all([
          Promise.all(
            PANELS.map(async (p) => ({
              id: p.id,
              title: p.title,
              unit: p.unit,
              series: (
                await Promise.all(
                  p.queries.map(async (q) =>
                    (await prometheus.queryRange(q.expr, range)).map((s) => ({
                      name: legendOf(q.legend, s.metric) || q.legend,
                      points: s.values.map(([t, v]) => [t, Number(v)]),
                    })),
                  ),
                )
              ).flat(),
            })),
          ),
          prometheus.alerts(),
        ]);
        return {
          status: 200,
          headers: { 'cache-control': 'no-store' },
          body: {
            range,
            panels,
            alerts: alerts
              .filter((a) => a.state !== 'inactive')
              .map((a) => ({
                name: a.labels.alertname ?? '',
                state: a.state,
                severity: a.labels.severity ?? null,
                summary: a.annotations.summary ?? '',
                since: a.activeAt ?? null,
              })),
          },
        };
      },
    },
  ];
}
