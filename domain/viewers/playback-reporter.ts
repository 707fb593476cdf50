import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { ViewerPlayback } from '../../schemas/generated/events.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { PlaybackBatcher, type MediaFetch } from './playback.ts';

/**
 * Playback events (issue #28) from whatever delivers media to players: the edge gives every
 * access-log line (`fetched`), the WebRTC gateway what it sent each WHEP session (`delivered`,
 * from `beforeFlush`). A PlaybackBatcher folds them, and every `flushMs` what it folded (one
 * ViewerPlayback per player session and stream) goes to live.viewer.playback in one produce
 * request. An interval that cannot be sent is retried with the next one, up to `maxSessions` held;
 * what does not fit is dropped and counted: its session's next interval says the same.
 */
export interface PlaybackReporterOptions {
  /** Who delivered the media (the event's `edge` field): an edge's name, or the WebRTC gateway's. */
  edge: string;
  /** Metric names start with it: `live_edge_playback` or `live_webrtc_playback`. */
  metricPrefix: string;
  /** Called at each flush, before the interval is drained (the WebRTC gateway records its sessions). */
  beforeFlush?: (now: number) => void;
  flushMs: number;
  maxSessions: number;
  send: (events: ViewerPlayback[]) => Promise<void>;
  log: Logger;
  metrics: Metrics;
}

export class PlaybackReporter implements Component {
  readonly name = 'edge-playback';
  private readonly batcher: PlaybackBatcher;
  private unsent: ViewerPlayback[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly requests: Counter<'outcome'>;
  private readonly published: Counter;

  constructor(private readonly opts: PlaybackReporterOptions) {
    this.batcher = new PlaybackBatcher({ edge: opts.edge, maxSessions: opts.maxSessions });
    const registers = [opts.metrics.registry];
    this.requests = new Counter({
      name: `${opts.metricPrefix}_requests_total`,
      help: "Media requests naming a player session, by outcome: added (to its session's interval), full (dropped: too many sessions this interval)",
      labelNames: ['outcome'],
      registers,
    });
    this.published = new Counter({
      name: `${opts.metricPrefix}_events_total`,
      help: 'ViewerPlayback events Kafka acknowledged (one per session, stream and interval)',
      registers,
    });
    const batcher = this.batcher;
    new Gauge({
      name: `${opts.metricPrefix}_sessions`,
      help: 'Player sessions with media fetched in the interval being folded',
      registers,
      collect() {
        this.set(batcher.size);
      },
    });
  }

  /** A media request the edge answered (its access log, `at` in ms). */
  fetched(f: MediaFetch): void {
    const outcome = this.batcher.add(f);
    if (outcome !== 'ignored') this.requests.inc({ outcome });
  }

  /** Media sent to a session over another path (WebRTC): `packets` count as its requests. */
  delivered(streamId: string, sessionId: string, at: number, packets: number, bytes: number): void {
    this.requests.inc({ outcome: this.batcher.record({ streamId, sessionId }, at, packets, bytes) });
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      this.flushing = this.flushing.then(() => this.flush());
    }, this.opts.flushMs);
  }

  /** After the edge has stopped (its last lines read): one last flush. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  private async flush(): Promise<void> {
    const now = Date.now();
    this.opts.beforeFlush?.(now);
    const events = [...this.unsent, ...this.batcher.drain(now, randomUUID)];
    this.unsent = [];
    if (!events.length) return;
    try {
      await this.opts.send(events);
      this.published.inc(events.length);
    } catch (err) {
      this.unsent = events.slice(-this.opts.maxSessions);
      this.opts.log.warn({ err, events: events.length }, 'could not publish playback events; retrying next interval');
    }
  }
}
