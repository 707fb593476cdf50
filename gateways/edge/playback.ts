import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { ViewerPlayback } from '../../schemas/generated/events.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { PlaybackBatcher } from '../../domain/viewers/playback.ts';
import type { AccessEntry } from './access-log.ts';

/**
 * The edge's playback events (issue #28): every access-log line goes to a PlaybackBatcher
 * (domain/viewers/playback.ts), and every `flushMs` what it folded (one ViewerPlayback per player
 * session and stream) goes to live.viewer.playback in one produce request. An interval that
 * cannot be sent is retried with the next one, up to `maxSessions` held; what does not fit is
 * dropped and counted: its session's next interval says the same.
 */
export interface PlaybackReporterOptions {
  edge: string;
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
      name: 'live_edge_playback_requests_total',
      help: "Media requests naming a player session, by outcome: added (to its session's interval), full (dropped: too many sessions this interval)",
      labelNames: ['outcome'],
      registers,
    });
    this.published = new Counter({
      name: 'live_edge_playback_events_total',
      help: 'ViewerPlayback events Kafka acknowledged (one per session, stream and interval)',
      registers,
    });
    const batcher = this.batcher;
    new Gauge({
      name: 'live_edge_playback_sessions',
      help: 'Player sessions with media fetched in the interval being folded',
      registers,
      collect() {
        this.set(batcher.size);
      },
    });
  }

  /** An access-log line (the edge's onAccess). */
  add(e: AccessEntry): void {
    const outcome = this.batcher.add({ ...e, at: Math.round(e.at * 1000) });
    if (outcome !== 'ignored') this.requests.inc({ outcome });
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
    const events = [...this.unsent, ...this.batcher.drain(Date.now(), randomUUID)];
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
