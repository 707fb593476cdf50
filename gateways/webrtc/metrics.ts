import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

/** The WebRTC gateway's own metrics: what operators watch of its publishers and viewers. */
export class WebRtcMetrics {
  readonly publishers: Gauge;
  readonly viewers: Gauge;
  readonly bridges: Gauge;
  readonly sessionsStarted: Counter<'role'>;
  readonly sessionsEnded: Counter<'role' | 'how'>;
  readonly refused: Counter<'role' | 'reason'>;
  readonly iceFailures: Counter<'role'>;
  readonly packetsLost: Gauge<'stream' | 'kind'>;
  readonly jitter: Gauge<'stream' | 'kind'>;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.publishers = new Gauge({ name: 'live_webrtc_publishers', help: 'WHIP publishers connected', registers });
    this.viewers = new Gauge({ name: 'live_webrtc_viewers', help: 'WHEP viewers connected', registers });
    this.bridges = new Gauge({
      name: 'live_webrtc_rtmp_bridges',
      help: 'RTMP broadcasts in ultra-low mode bridged to WebRTC for their viewers',
      registers,
    });
    this.sessionsStarted = new Counter({
      name: 'live_webrtc_sessions_started_total',
      help: 'WHIP (publish) and WHEP (play) sessions answered',
      labelNames: ['role'],
      registers,
    });
    this.sessionsEnded = new Counter({
      name: 'live_webrtc_sessions_ended_total',
      help: 'Sessions ended, by role and how (deleted, ice_failed, media_timeout, silent, ...)',
      labelNames: ['role', 'how'],
      registers,
    });
    this.refused = new Counter({
      name: 'live_webrtc_refused_total',
      help: 'WHIP and WHEP requests refused, by reason',
      labelNames: ['role', 'reason'],
      registers,
    });
    this.iceFailures = new Counter({
      name: 'live_webrtc_ice_failures_total',
      help: 'Sessions whose ICE or DTLS failed or never connected',
      labelNames: ['role'],
      registers,
    });
    this.packetsLost = new Gauge({
      name: 'live_webrtc_publisher_packets_lost',
      help: 'RTP packets a WHIP publisher lost on the way in, since it connected',
      labelNames: ['stream', 'kind'],
      registers,
    });
    this.jitter = new Gauge({
      name: 'live_webrtc_publisher_jitter_seconds',
      help: 'Interarrival jitter of a WHIP publisher’s RTP',
      labelNames: ['stream', 'kind'],
      registers,
    });
  }

  /** A publisher's series go with it. */
  forget(stream: string): void {
    for (const kind of ['video', 'audio']) {
      this.packetsLost.remove({ stream, kind });
      this.jitter.remove({ stream, kind });
    }
  }
}
