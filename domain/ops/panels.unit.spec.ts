import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GRAFANA_DASHBOARD_FILE, grafanaDashboard, grafanaJson } from './grafana.ts';
import { PANELS, legendOf, stepSeconds, streamHealthPanels } from './panels.ts';

describe('operator dashboard panels', () => {
  it('have unique ids and fill legends from labels', () => {
    assert.equal(new Set(PANELS.map((p) => p.id)).size, PANELS.length);
    assert.equal(
      legendOf('{{topic}} / {{ group }}', { topic: 'live.chat.messages', group: 'g' }),
      'live.chat.messages / g',
    );
    assert.equal(legendOf('{{missing}}x', {}), 'x');
  });

  it("a stream's health panels name only that stream, and only a stream id gets into a query", () => {
    for (const p of streamHealthPanels('stream_abc')) assert.match(p.queries[0]!.expr, /\{stream="stream_abc"\}/);
    assert.throws(() => streamHealthPanels('x"} or vector(1) or {a="'), /not a stream id/);
  });

  it('ask for about 240 points, never finer than the 5 s scrape', () => {
    assert.deepEqual([15, 60, 360, 1440].map(stepSeconds), [5, 15, 90, 360]);
  });

  it('are valid PromQL: promtool checks every query as a recording rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'panels-'));
    try {
      const file = join(dir, 'panels.yml');
      const rules = [...PANELS, ...streamHealthPanels('stream_0123')].flatMap((p) =>
        p.queries.map(
          (q, i) =>
            `      - record: panel:${p.id.replaceAll('-', '_')}:${i}\n        expr: ${JSON.stringify(q.expr)}\n`,
        ),
      );
      writeFileSync(file, `groups:\n  - name: panels\n    rules:\n${rules.join('')}`);
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are what compose/grafana/live-platform.json holds (rewrite it with `npx tsx scripts/grafana.ts`)', () => {
    assert.equal(readFileSync(GRAFANA_DASHBOARD_FILE, 'utf8'), grafanaJson(grafanaDashboard(PANELS)));
    const d = grafanaDashboard(PANELS) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    assert.equal(d.panels.length, PANELS.length);
    assert.equal(d.panels[0]!.targets[0]!.expr, PANELS[0]!.queries[0]!.expr);
  });
});
