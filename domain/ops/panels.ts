/**
 * The operator dashboard, defined once: the web page's operator view draws these panels from
 * Prometheus (through the API) and `compose/grafana/live-platform.json` is generated from them
 * for people who run Grafana. Each query reads metrics the services and servers export
 * (docs/operations.md); the legend names a series from its labels.
 */
export interface PanelQuery {
  expr: string;
  /** `{{label}}` placeholders are filled from the series' labels (Grafana's syntax). */
  legend: string;
}

export interface Panel {
  id: string;
  title: string;
  unit: 'events/s' | 'records' | 'count' | 'messages/s' | 'seconds' | 'ratio' | 'requests/s' | 'bits/s' | 'frames/s';
  queries: PanelQuery[];
}

const quantile = (q: number, histogram: string, by = '') =>
  `histogram_quantile(${q}, sum by (${by ? `${by}, ` : ''}le) (rate(${histogram}_bucket[1m])))`;

export const PANELS: readonly Panel[] = [
  {
    id: 'events-produced',
    title: 'Events produced per topic',
    unit: 'events/s',
    queries: [{ expr: 'sum by (topic) (rate(live_events_produced_total[1m]))', legend: '{{topic}}' }],
  },
  {
    id: 'consumer-lag',
    title: 'Consumer lag per group',
    unit: 'records',
    queries: [{ expr: 'sum by (group) (live_consumer_lag)', legend: '{{group}}' }],
  },
  {
    id: 'live-streams',
    title: 'Live broadcasts',
    unit: 'count',
    queries: [
      { expr: 'sum(live_ingest_publishers)', legend: 'RTMP publishers' },
      { expr: 'sum(live_webrtc_publishers)', legend: 'WHIP publishers' },
    ],
  },
  {
    id: 'viewers',
    title: 'Viewers connected',
    unit: 'count',
    queries: [
      { expr: 'sum(live_viewer_connections)', legend: 'viewer sockets (HLS players)' },
      { expr: 'sum(live_webrtc_viewers)', legend: 'WebRTC viewers' },
    ],
  },
  {
    id: 'chat',
    title: 'Chat messages accepted',
    unit: 'messages/s',
    queries: [{ expr: 'sum(rate(live_chat_accepted_total[1m]))', legend: 'messages' }],
  },
  {
    id: 'chat-latency',
    title: 'Chat fan-out wait',
    unit: 'seconds',
    queries: [
      { expr: quantile(0.5, 'live_chat_fanout_wait_seconds'), legend: 'p50' },
      { expr: quantile(0.99, 'live_chat_fanout_wait_seconds'), legend: 'p99' },
    ],
  },
  {
    id: 'transcode-lag',
    title: 'Transcode lag behind the source, per stream',
    unit: 'seconds',
    queries: [{ expr: 'max by (stream) (live_media_transcode_lag_seconds)', legend: '{{stream}}' }],
  },
  {
    id: 'transcode-speed',
    title: 'Transcode speed per stream (100% = real time)',
    unit: 'ratio',
    queries: [{ expr: 'min by (stream) (live_media_transcode_speed_ratio)', legend: '{{stream}}' }],
  },
  {
    id: 'ladder-dropped',
    title: 'Rungs dropped for capacity, per worker',
    unit: 'count',
    queries: [
      { expr: 'sum by (instance) (live_media_ladder_dropped_rungs)', legend: '{{instance}}' },
      { expr: 'sum by (reason) (increase(live_media_ladder_changes_total[5m]))', legend: 'changes (5m): {{reason}}' },
    ],
  },
  {
    id: 'listing-latency',
    title: 'Frame made to listed in the live playlist',
    unit: 'seconds',
    queries: [
      { expr: quantile(0.5, 'live_packager_part_listed_delay_seconds'), legend: 'LL-HLS part, p50' },
      { expr: quantile(0.5, 'live_packager_listed_delay_seconds'), legend: 'segment, p50' },
    ],
  },
  {
    id: 'glass-to-glass',
    title: 'Glass to glass per latency tier, as players report it',
    unit: 'seconds',
    queries: [
      { expr: quantile(0.5, 'live_viewer_latency_seconds', 'tier'), legend: '{{tier}} p50' },
      { expr: quantile(0.95, 'live_viewer_latency_seconds', 'tier'), legend: '{{tier}} p95' },
    ],
  },
  {
    id: 'edge-hit-ratio',
    title: 'Edge cache hit ratio',
    unit: 'ratio',
    queries: [{ expr: 'max by (kind) (live_edge_hit_ratio)', legend: '{{kind}}' }],
  },
  {
    id: 'http-errors',
    title: 'HTTP 5xx answers per service',
    unit: 'requests/s',
    queries: [{ expr: 'sum by (job) (rate(live_http_requests_total{status=~"5.."}[1m]))', legend: '{{job}}' }],
  },
];

/** A series' legend: `{{label}}` filled from its labels (an absent label reads as empty). */
export function legendOf(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
}

/** A step that gives about 240 points over the window, never under the 5 s scrape interval. */
export function stepSeconds(minutes: number): number {
  return Math.max(5, Math.ceil((minutes * 60) / 240));
}

/** Stream ids the API issues; anything else never reaches a query. */
const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A streamer's own stream, as the go-live page charts it (its ingest, viewers and transcode). */
export function streamHealthPanels(streamId: string): Panel[] {
  if (!STREAM_ID.test(streamId)) throw new Error(`not a stream id: ${streamId.slice(0, 80)}`);
  const of = (metric: string) => `max(${metric}{stream="${streamId}"})`;
  return [
    {
      id: 'bitrate',
      title: 'Incoming bitrate',
      unit: 'bits/s',
      queries: [{ expr: of('live_ingest_source_bits_per_second'), legend: 'from your encoder' }],
    },
    {
      id: 'frame-rate',
      title: 'Incoming frame rate',
      unit: 'frames/s',
      queries: [{ expr: of('live_ingest_source_frames_per_second'), legend: 'from your encoder' }],
    },
    {
      id: 'keyframe-interval',
      title: 'Keyframe interval',
      unit: 'seconds',
      queries: [{ expr: of('live_ingest_source_keyframe_interval_seconds'), legend: 'between keyframes' }],
    },
    {
      id: 'viewers',
      title: 'Viewers',
      unit: 'count',
      queries: [{ expr: of('live_viewer_count'), legend: 'viewers' }],
    },
    {
      id: 'transcode-lag',
      title: 'Transcode lag',
      unit: 'seconds',
      queries: [{ expr: of('live_media_transcode_lag_seconds'), legend: 'behind your encoder' }],
    },
    {
      id: 'ladder-rungs',
      title: 'Qualities made of your stream',
      unit: 'count',
      queries: [
        { expr: of('live_media_ladder_rungs'), legend: 'running' },
        { expr: of('live_media_ladder_dropped_rungs'), legend: 'dropped for capacity' },
      ],
    },
  ];
}
