import type {
  ChatEvent,
  FollowEvent,
  IngestLease,
  MediaEvent,
  NotificationCreated,
  StreamLifecycleEvent,
  UserTokensRevoked,
  ViewerCountChanged,
  ViewerHeartbeat,
  ViewerPlayback,
  VodDeleted,
  VodRecorded,
  WorkerCapacity,
} from './generated/events.ts';

/**
 * The topic catalog: one entry per topic, naming its key field, its value record (the root
 * .avsc), partitions and retention. `T` ties the entry to the generated event type, so a producer
 * or consumer of a topic is typed by the catalog alone. Names get the deployment's prefix
 * (LIVE_TOPIC_PREFIX) so tests and tenants can share a broker without sharing topics.
 */
export interface TopicSpec<T> {
  /** Base name, `live.<domain>.<what>`. */
  base: string;
  /** Field of the event that is the Kafka key; fixes per-entity ordering. */
  key: keyof T & string;
  /** Full name of the root record in schemas/avro. */
  valueRecord: string;
  partitions: number;
  /** 'forever', a retention in ms, or 'compact' (latest value per key). */
  retention: 'forever' | 'compact' | number;
  /** Phantom field carrying T; never set. */
  readonly _type?: T;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function spec<T>(s: Omit<TopicSpec<T>, '_type'>): TopicSpec<T> {
  return s;
}

export const TOPICS = {
  streamLifecycle: spec<StreamLifecycleEvent>({
    base: 'live.stream.lifecycle',
    key: 'streamId',
    valueRecord: 'live.stream.StreamLifecycleEvent',
    partitions: 6,
    retention: 'forever',
  }),
  chatMessages: spec<ChatEvent>({
    base: 'live.chat.messages',
    key: 'streamId',
    valueRecord: 'live.chat.ChatEvent',
    partitions: 12,
    retention: 30 * DAY,
  }),
  viewerHeartbeats: spec<ViewerHeartbeat>({
    base: 'live.viewer.heartbeats',
    key: 'streamId',
    valueRecord: 'live.viewer.ViewerHeartbeat',
    partitions: 12,
    retention: 6 * HOUR,
  }),
  // The edges' media fetches per player session, joined with heartbeats by the viewer counter:
  // partitioned and kept as the heartbeats are, so a replay has both for the same hours.
  viewerPlayback: spec<ViewerPlayback>({
    base: 'live.viewer.playback',
    key: 'streamId',
    valueRecord: 'live.viewer.ViewerPlayback',
    partitions: 12,
    retention: 6 * HOUR,
  }),
  viewerCounts: spec<ViewerCountChanged>({
    base: 'live.viewer.counts',
    key: 'streamId',
    valueRecord: 'live.viewer.ViewerCountChanged',
    partitions: 6,
    retention: 'compact',
  }),
  mediaSegments: spec<MediaEvent>({
    base: 'live.media.segments',
    key: 'streamId',
    valueRecord: 'live.media.MediaEvent',
    partitions: 12,
    retention: 3 * DAY,
  }),
  /** Keyed by worker, compacted: the newest value per worker is its load now (media/worker/capacity-report.ts). */
  mediaCapacity: spec<WorkerCapacity>({
    base: 'live.media.capacity',
    key: 'workerId',
    valueRecord: 'live.media.WorkerCapacity',
    partitions: 3,
    retention: 'compact',
  }),
  // Ingest node leases (issue #24): the newest per node says until when it is alive; the ingest
  // watchdog ends the streams of a node whose lease ran out (processors/ingest-watchdog/).
  ingestLeases: spec<IngestLease>({
    base: 'live.ingest.leases',
    key: 'nodeId',
    valueRecord: 'live.ingest.IngestLease',
    partitions: 3,
    retention: 'compact',
  }),
  userFollows: spec<FollowEvent>({
    base: 'live.user.follows',
    key: 'streamerId',
    valueRecord: 'live.user.FollowEvent',
    partitions: 6,
    retention: 'forever',
  }),
  // Per-user token revocation (issue #28): the latest "revoked before" per user, read whole by
  // every process that verifies tokens.
  userRevocations: spec<UserTokensRevoked>({
    base: 'live.user.revocations',
    key: 'userId',
    valueRecord: 'live.user.UserTokensRevoked',
    partitions: 3,
    retention: 'compact',
  }),
  notifications: spec<NotificationCreated>({
    base: 'live.notifications',
    key: 'recipientId',
    valueRecord: 'live.notification.NotificationCreated',
    partitions: 6,
    retention: 30 * DAY,
  }),
  vodRecordings: spec<VodRecorded>({
    base: 'live.vod.recordings',
    key: 'streamId',
    valueRecord: 'live.vod.VodRecorded',
    partitions: 3,
    retention: 'forever',
  }),
  // A streamer's deletions of their videos (issue #26). A topic of its own: live.vod.recordings'
  // value is the bare VodRecorded record, which no envelope can read (BACKWARD_TRANSITIVE), so
  // deletions cannot join it; readers treat a deletion as final whichever topic they read first.
  vodDeletions: spec<VodDeleted>({
    base: 'live.vod.deletions',
    key: 'streamId',
    valueRecord: 'live.vod.VodDeleted',
    partitions: 3,
    retention: 'forever',
  }),
} as const;

export type TopicKey = keyof typeof TOPICS;
export type EventOf<K extends TopicKey> = (typeof TOPICS)[K] extends TopicSpec<infer T> ? T : never;

/** Dead letters keep their original bytes for this long, enough to notice, fix and re-drive. */
export const DLQ_RETENTION_MS = 30 * DAY;

export const dlqName = (topic: string): string => `${topic}.dlq`;
export const subjectOf = (topic: string): string => `${topic}-value`;

/** Kafka topic configs for a spec: what `ensureTopics` creates and checks. */
export function topicConfig(retention: TopicSpec<unknown>['retention']): Record<string, string> {
  if (retention === 'compact') return { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(60_000) };
  return { 'cleanup.policy': 'delete', 'retention.ms': retention === 'forever' ? '-1' : String(retention) };
}
