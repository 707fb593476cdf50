import { DEBIAN_TOOLS, ensureDebianTools, which } from '../../../platform/debian.ts';
import type { LaunchContext, ServerDef } from '../types.ts';

/**
 * Debian's Prometheus Elasticsearch exporter: Elasticsearch serves no Prometheus text of its own
 * (the free distribution has no exporter plugin), so this small process asks its stats APIs on
 * each scrape and answers in Prometheus text.
 */
const metricsUrl = (ctx: LaunchContext): string => `http://${ctx.host}:${ctx.ports.elasticsearchExporter}/metrics`;

export const elasticsearchExporter: ServerDef = {
  name: 'elasticsearch-exporter',
  describe: 'Prometheus Elasticsearch exporter (Debian package): cluster health, indices, JVM',
  ports: (p) => [p.elasticsearchExporter],
  startTimeoutMs: 45_000,

  async install(ctx) {
    ensureDebianTools([DEBIAN_TOOLS.elasticsearchExporter], ctx.report);
  },

  async prepare() {},

  spawn(ctx) {
    return {
      cmd: which(DEBIAN_TOOLS.elasticsearchExporter.bin) ?? DEBIAN_TOOLS.elasticsearchExporter.bin,
      args: [
        `--es.uri=http://${ctx.host}:${ctx.ports.elasticsearch}`,
        `--web.listen-address=${ctx.host}:${ctx.ports.elasticsearchExporter}`,
        // Per-index figures: the discovery index's size and indexing rate are what an operator asks.
        '--es.indices',
        // The cluster-info collector reads `GET /`, which the Maven Central distribution lacks
        // (elasticsearch.ts); without it the exporter still waits 10 s for that call before listening.
        '--no-collector.cluster-info',
        '--es.timeout=5s',
      ],
      cwd: ctx.dataDir,
    };
  },

  async probe(ctx) {
    const url = metricsUrl(ctx);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch((err: Error) => {
      throw new Error(`GET ${url} failed: ${String((err.cause as Error | undefined)?.message ?? err.message)}`);
    });
    const body = await res.text();
    // Up before Elasticsearch answers it: healthy once it reports the cluster itself reachable.
    if (!res.ok || !/^elasticsearch_cluster_health_up\S* 1$/m.test(body))
      throw new Error(`${url}: the exporter does not reach Elasticsearch yet`);
  },
};
