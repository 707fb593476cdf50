import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

/** The chat gateway's own metrics, beside the event-bus ones every service has. */
export class ChatMetrics {
  readonly connections: Gauge;
  readonly upgrading: Gauge;
  readonly rooms: Gauge;
  readonly accepted: Counter<'type'>;
  readonly refused: Counter<'code'>;
  readonly closed: Counter<'code'>;
  readonly fanoutWrites: Counter;
  readonly fanoutFrames: Counter;
  readonly fanoutWait: Histogram;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.connections = new Gauge({ name: 'live_chat_connections', help: 'Open chat WebSockets', registers });
    this.upgrading = new Gauge({
      name: 'live_chat_upgrades_in_progress',
      help: 'WebSocket upgrades admitted to a connection slot and not yet open (ticket check, archive reads)',
      registers,
    });
    this.rooms = new Gauge({ name: 'live_chat_rooms', help: 'Streams this instance holds recent chat for', registers });
    this.accepted = new Counter({
      name: 'live_chat_accepted_total',
      help: 'Chat commands published to the topic, by event type',
      labelNames: ['type'],
      registers,
    });
    this.refused = new Counter({
      name: 'live_chat_refused_total',
      help: 'Frames answered with an error frame or a close, by error code',
      labelNames: ['code'],
      registers,
    });
    this.closed = new Counter({
      name: 'live_chat_closed_total',
      help: 'Chat WebSockets closed, by close code (1006: dropped without a close frame, e.g. a slow reader or invalid UTF-8)',
      labelNames: ['code'],
      registers,
    });
    // Writes, not frames, are what a gateway's CPU pays for (a kernel send each): the capacity signal.
    this.fanoutWrites = new Counter({
      name: 'live_chat_fanout_writes_total',
      help: 'Socket writes of fanned-out chat frames (one per socket per turn of its fan-out group, however many frames it carries)',
      registers,
    });
    this.fanoutFrames = new Counter({
      name: 'live_chat_fanout_frames_total',
      help: 'Chat frames fanned out to local sockets (frames x subscribed sockets)',
      registers,
    });
    // A gateway falling behind shows here first: the wait grows with the time a round of writes takes.
    this.fanoutWait = new Histogram({
      name: 'live_chat_fanout_wait_seconds',
      help: 'Per fan-out group turn: how long the oldest frame it wrote waited in this gateway between arriving from Kafka and the write',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }
}
