/**
 * Writes compose/grafana/live-platform.json from the operator dashboard's panels
 * (domain/ops/panels.ts), so Grafana users see what the web page's /ops view shows. Its unit spec
 * fails when the file and the panels disagree.
 */
import { writeFileSync } from 'node:fs';
import { GRAFANA_DASHBOARD_FILE, grafanaDashboard, grafanaJson } from '../domain/ops/grafana.ts';
import { PANELS } from '../domain/ops/panels.ts';

writeFileSync(GRAFANA_DASHBOARD_FILE, grafanaJson(grafanaDashboard(PANELS)));
console.log(`wrote ${GRAFANA_DASHBOARD_FILE}`);
