import { resolve } from 'node:path';
import type { Panel } from './panels.ts';

/** Where the generated dashboard lives (scripts/grafana.ts writes it). */
export const GRAFANA_DASHBOARD_FILE = resolve(import.meta.dirname, '../../compose/grafana/live-platform.json');

export const grafanaJson = (d: Record<string, unknown>): string => `${JSON.stringify(d, null, 2)}\n`;

/**
 * The panels as a Grafana dashboard (schema 39, time series panels two to a row), for
 * `compose/grafana/live-platform.json`; the datasource is a variable, so it imports into any
 * Grafana whose Prometheus scrapes the platform.
 */
const UNITS: Record<Panel['unit'], string> = {
  'events/s': 'ops',
  records: 'short',
  count: 'short',
  'messages/s': 'ops',
  seconds: 's',
  ratio: 'percentunit',
  'requests/s': 'reqps',
  'bits/s': 'bps',
  'frames/s': 'short',
};

export function grafanaDashboard(panels: readonly Panel[]): Record<string, unknown> {
  const datasource = { type: 'prometheus', uid: '${datasource}' };
  return {
    title: 'Live platform',
    uid: 'live-platform',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '15s',
    time: { from: 'now-1h', to: 'now' },
    tags: ['live-platform'],
    templating: {
      list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }],
    },
    panels: panels.map((p, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: p.title,
      datasource,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: UNITS[p.unit] }, overrides: [] },
      targets: p.queries.map((q, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource,
        expr: q.expr,
        legendFormat: q.legend,
      })),
    })),
  };
}
