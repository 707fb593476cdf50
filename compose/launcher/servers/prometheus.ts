import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_TOOLS, ensureDebianTools, which } from '../../../platform/debian.ts';
import { REPO_ROOT } from '../../../platform/paths.ts';
import { platformServices } from '../../services.ts';
import { platformScrapeTargets, prometheusYml, type ScrapeTarget } from '../prometheus-config.ts';
import type { LaunchContext, ServerDef } from '../types.ts';

/** The platform's alert rules, read in place so an edit applies on the next start. */
export const ALERT_RULES = join(REPO_ROOT, 'compose', 'prometheus', 'alerts.yml');

export interface PrometheusOptions {
  /** What to scrape; by default every service of `./live up` and Prometheus itself. */
  targets?: (ctx: LaunchContext) => ScrapeTarget[];
  /** Rule files (absolute paths); by default the platform's alert rules. */
  ruleFiles?: string[];
  scrapeIntervalSeconds?: number;
  evaluationIntervalSeconds?: number;
  /** Kept this long; the data lives in `.data/prometheus/data`. */
  retention?: string;
}

const configFile = (ctx: LaunchContext): string => join(ctx.dataDir, 'prometheus.yml');
const baseUrl = (ctx: LaunchContext): string => `http://${ctx.host}:${ctx.ports.prometheus}`;

/**
 * Debian's Prometheus (the `prometheus` package, which also brings `promtool`), scraping every
 * service's /metrics every 5 s and evaluating compose/prometheus/alerts.yml. Firing alerts show
 * at /alerts and /api/v1/alerts; nothing routes them further (no Alertmanager yet).
 */
export function prometheusServer(opts: PrometheusOptions = {}): ServerDef {
  const targets =
    opts.targets ??
    ((ctx: LaunchContext) =>
      // The endpoints only shape the services' environment; their metrics ports are fixed.
      platformScrapeTargets(platformServices({}), { host: ctx.host, ports: ctx.ports }));
  return {
    name: 'prometheus',
    describe: `Prometheus (Debian package), scraping every service, alerts from compose/prometheus/alerts.yml`,
    ports: (p) => [p.prometheus],
    // Ready in well under a second on an empty data folder; replaying a large WAL takes longer.
    startTimeoutMs: 60_000,

    async install(ctx) {
      ensureDebianTools([DEBIAN_TOOLS.prometheus, DEBIAN_TOOLS.promtool], ctx.report);
    },

    async prepare(ctx) {
      mkdirSync(join(ctx.dataDir, 'data'), { recursive: true });
      writeFileSync(
        configFile(ctx),
        prometheusYml({
          scrapeIntervalSeconds: opts.scrapeIntervalSeconds ?? 5,
          evaluationIntervalSeconds: opts.evaluationIntervalSeconds ?? 5,
          ruleFiles: opts.ruleFiles ?? [ALERT_RULES],
          targets: targets(ctx),
        }),
      );
    },

    spawn(ctx) {
      return {
        // install() made sure it is there.
        cmd: which(DEBIAN_TOOLS.prometheus.bin) ?? DEBIAN_TOOLS.prometheus.bin,
        args: [
          `--config.file=${configFile(ctx)}`,
          `--storage.tsdb.path=${join(ctx.dataDir, 'data')}`,
          `--storage.tsdb.retention.time=${opts.retention ?? '7d'}`,
          `--web.listen-address=${ctx.host}:${ctx.ports.prometheus}`,
          `--web.external-url=${baseUrl(ctx)}/`,
          // The package's console templates, so /consoles works as on a packaged install.
          '--web.console.templates=/etc/prometheus/consoles',
          '--web.console.libraries=/etc/prometheus/console_libraries',
        ],
        cwd: ctx.dataDir,
      };
    },

    async probe(ctx) {
      const url = `${baseUrl(ctx)}/-/ready`;
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch((err: Error) => {
        throw new Error(`GET ${url} failed: ${String((err.cause as Error | undefined)?.message ?? err.message)}`);
      });
      const body = await res.text();
      if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${body.slice(0, 200)}`);
    },
  };
}

export const prometheus = prometheusServer();
