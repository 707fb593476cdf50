import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

/** The viewer gateway's own metrics, beside the event-bus ones every service has. */
export class ViewerMetrics {
  readonly connections: Gauge;
  readonly heartbeats: Counter<'kind'>;
  readonly refused: Counter<'code'>;
  readonly pushes: Counter;
  readonly queued: Gauge;
  readonly dropped: Counter;
  readonly latency: Histogram<'tier'>;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.connections = new Gauge({ name: 'live_viewer_connections', help: 'Open player sockets', registers });
    this.heartbeats = new Counter({
      name: 'live_viewer_heartbeats_total',
      help: 'Heartbeats queued for live.viewer.heartbeats, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.refused = new Counter({
      name: 'live_viewer_refused_total',
      help: 'Upgrades and frames refused, by code (too_frequent: a heartbeat sooner than allowed, dropped)',
      labelNames: ['code'],
      registers,
    });
    this.pushes = new Counter({
      name: 'live_viewer_count_pushes_total',
      help: 'Count frames published to a stream’s local players',
      registers,
    });
    this.queued = new Gauge({ name: 'live_viewer_heartbeats_queued', help: 'Heartbeats waiting for Kafka', registers });
    this.dropped = new Counter({
      name: 'live_viewer_heartbeats_dropped_total',
      help: 'Heartbeats dropped because the queue to Kafka was full (Kafka unreachable for long)',
      registers,
    });
    // The seed's tiers are 3 s, 1 s and 0.5 s glass to glass: buckets on each side of each.
    this.latency = new Histogram({
      name: 'live_viewer_latency_seconds',
      help: "Glass to glass as players report it in heartbeats (frame on screen behind its capture time), by the stream's latency tier",
      labelNames: ['tier'],
      buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 10, 30],
      registers,
    });
  }
}
