import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

/** The viewer gateway's own metrics, beside the event-bus ones every service has. */
export class ViewerMetrics {
  readonly connections: Gauge;
  readonly heartbeats: Counter<'kind'>;
  readonly refused: Counter<'code'>;
  readonly pushes: Counter;
  readonly queued: Gauge;
  readonly dropped: Counter;

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
  }
}
