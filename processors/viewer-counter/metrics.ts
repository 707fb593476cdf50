import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

/** The viewer counter's own metrics, beside the event-bus ones every service has. */
export class CounterMetrics {
  readonly heartbeats: Counter<'outcome'>;
  readonly published: Counter;
  readonly viewers: Gauge<'stream'>;
  readonly streams: Gauge;
  readonly partitions: Gauge<'phase'>;
  readonly rebuildSeconds: Histogram;
  readonly playback: Counter;
  readonly playbackHeld: Gauge;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.heartbeats = new Counter({
      name: 'live_viewer_counter_heartbeats_total',
      help: 'Heartbeats read, by outcome: applied, clamped_future, clamped_late, stale (refused), not_live (refused: the stream ended)',
      labelNames: ['outcome'],
      registers,
    });
    this.published = new Counter({
      name: 'live_viewer_counter_counts_published_total',
      help: 'ViewerCountChanged events acknowledged by Kafka',
      registers,
    });
    // Per live stream, for the streamer's stream-health chart; an ended stream's series goes.
    this.viewers = new Gauge({
      name: 'live_viewer_count',
      help: 'The latest viewer count published for a live stream',
      labelNames: ['stream'],
      registers,
    });
    this.streams = new Gauge({ name: 'live_viewer_counter_streams', help: 'Streams with a window here', registers });
    this.partitions = new Gauge({
      name: 'live_viewer_counter_partitions',
      help: 'Owned heartbeat partitions, by phase (seeking, rebuilding, live)',
      labelNames: ['phase'],
      registers,
    });
    this.rebuildSeconds = new Histogram({
      name: 'live_viewer_counter_rebuild_seconds',
      help: 'From an assignment to every owned partition being live again',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.playback = new Counter({
      name: 'live_viewer_counter_playback_total',
      help: "ViewerPlayback events read (the edges' media fetches per session), joined with heartbeats",
      registers,
    });
    this.playbackHeld = new Gauge({
      name: 'live_viewer_counter_playback_intervals',
      help: 'Playback intervals held for the join (those within a window of now)',
      registers,
    });
  }
}
