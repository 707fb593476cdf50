import { PANELS, legendOf, stepSeconds, streamHealthPanels, type Panel } from '../../domain/ops/panels.ts';
import type { ChatMinute } from '../../domain/chat/history.ts';
import type { StreamRegistry } from '../../domain/stream/registry.ts';
import { StreamError } from '../../domain/stream/errors.ts';
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

/** Figures of now: never cached. */
const fresh = (body: unknown): HttpReply => ({ status: 200, headers: { 'cache-control': 'no-store' }, body });

function minutesOf(query: URLSearchParams, fallback: number): number {
  const minutes = Number(query.get('minutes') ?? fallback);
  if (!MINUTES.includes(minutes))
    throw new ValidationError({ minutes: `minutes must be one of ${MINUTES.join(', ')}` });
  return minutes;
}

function rangeOf(minutes: number): { start: number; end: number; step: number } {
  const end = Math.floor(Date.now() / 1000);
  return { start: end - minutes * 60, end, step: stepSeconds(minutes) };
}

/** Each panel with its series over the range, every query asked at once. */
function panelSeries(
  prometheus: PrometheusClient,
  panels: readonly Panel[],
  range: { start: number; end: number; step: number },
) {
  return Promise.all(
    panels.map(async (p) => ({
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
  );
}

export function dashboardRoutes(deps: {
  auth: Authenticator;
  registry: StreamRegistry;
  prometheus?: PrometheusClient;
  /** The stream's chat per minute (the archiver's stats); without it, no chat figures. */
  chatMinutes?: (streamId: string, sinceMs: number) => Promise<ChatMinute[]>;
}): Route[] {
  return [
    {
      // Stream health for its streamer (or an operator): what the encoder sends, viewers, chat.
      method: 'get',
      path: '/api/v1/streams/:id/health',
      handle: async (req): Promise<HttpReply> => {
        const who = await deps.auth.require(req.headers.authorization);
        const id = req.params.id!;
        const stream = deps.registry.get(id);
        if (!stream) throw new StreamError('stream_not_found', `no stream ${id}`);
        if (stream.streamerId !== who.userId && !who.admin)
          throw new StreamError('not_stream_owner', 'only the streamer (or an operator) sees stream health');
        const range = rangeOf(minutesOf(req.query, 15));
        if (!deps.prometheus) throw new MetricsNotConfigured();
        const [panels, chat] = await Promise.all([
          panelSeries(deps.prometheus, streamHealthPanels(id), range),
          // Chat figures are a nicety here: an unreadable archive leaves them out, not the page.
          deps.chatMinutes ? deps.chatMinutes(id, range.start * 1000).catch(() => null) : Promise.resolve(null),
        ]);
        return fresh({
          range,
          panels,
          chat_per_minute:
            chat?.map((m) => ({
              minute: new Date(m.minute).toISOString(),
              messages: m.messages,
              chatters: m.chatters,
            })) ?? null,
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/admin/dashboard',
      handle: async (req): Promise<HttpReply> => {
        const who = await deps.auth.require(req.headers.authorization);
        if (!who.admin) throw new NotAdmin();
        const range = rangeOf(minutesOf(req.query, 60));
        if (!deps.prometheus) throw new MetricsNotConfigured();
        const prometheus = deps.prometheus;
        const [panels, alerts] = await Promise.all([panelSeries(prometheus, PANELS, range), prometheus.alerts()]);
        return fresh({
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
        });
      },
    },
  ];
}
