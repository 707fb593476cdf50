import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './logger.ts';
import type { Component } from './service.ts';

/**
 * One Prometheus registry per process, with the event-bus metrics every service shares.
 * Services add their own metrics to `registry`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly produced: Counter<'topic'>;
  readonly consumed: Counter<'topic' | 'group'>;
  readonly deadLettered: Counter<'topic' | 'group' | 'reason'>;
  readonly handlerErrors: Counter<'topic' | 'group' | 'retriable'>;
  readonly lag: Gauge<'topic' | 'partition' | 'group'>;
  readonly batchSeconds: Histogram<'topic' | 'group'>;

  constructor(service: string, opts: { defaults?: boolean } = {}) {
    this.registry.setDefaultLabels({ service });
    if (opts.defaults ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.produced = new Counter({
      name: 'live_events_produced_total',
      help: 'Events acknowledged by Kafka',
      labelNames: ['topic'],
      registers,
    });
    this.consumed = new Counter({
      name: 'live_events_consumed_total',
      help: 'Events handled successfully (offset committable)',
      labelNames: ['topic', 'group'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'live_events_dead_lettered_total',
      help: 'Records sent to <topic>.dlq, by reason',
      labelNames: ['topic', 'group', 'reason'],
      registers,
    });
    this.handlerErrors = new Counter({
      name: 'live_handler_errors_total',
      help: 'Handler failures; retriable ones are retried with backoff, others dead-lettered',
      labelNames: ['topic', 'group', 'retriable'],
      registers,
    });
    this.lag = new Gauge({
      name: 'live_consumer_lag',
      help: 'Records between the last fetched batch and the partition high watermark',
      labelNames: ['topic', 'partition', 'group'],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'live_consumer_batch_seconds',
      help: 'Time to handle one fetched batch, retries included',
      labelNames: ['topic', 'group'],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
      registers,
    });
  }
}

/** Serves GET /metrics (and /healthz from `health`) on its own port. */
export function serveMetrics(
  metrics: Metrics,
  port: number,
  host: string,
  health: () => { ok: boolean; detail?: unknown } = () => ({ ok: true }),
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
    } else if (req.url === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * /metrics and /healthz as a service component: listens at start (logging the port, which tests
 * read when they ask for port 0), closes at stop. Every long-running service puts one in its
 * runService list.
 */
export function metricsComponent(
  metrics: Metrics,
  at: { port: number; host: string; log?: Logger },
  health?: () => { ok: boolean; detail?: unknown },
): Component {
  let server: Server | undefined;
  return {
    name: 'metrics',
    async start() {
      server = await serveMetrics(metrics, at.port, at.host, health);
      const address = server.address();
      if (at.log && address && typeof address === 'object') at.log.info({ port: address.port }, 'metrics listening');
    },
    async stop() {
      server?.close();
    },
  };
}
