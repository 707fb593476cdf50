// Generated from schemas/avro by schemas/codegen.ts. DO NOT EDIT: change the .avsc and run `npm run gen:types`.
/* eslint-disable */

/** Value of live.chat.messages, keyed by streamId so one stream's chat (messages and moderation) is totally ordered. */
export interface ChatEvent {
  /** Unique id of this event. */
  eventId: string;
  /** Server time the gateway accepted it. */
  occurredAt: number;
  /** The stream's chat room; also the Kafka key. */
  streamId: string;
  /** What happened. Kinds are only ever added (a reader meeting an unknown kind dead-letters it). */
  payload: ChatEventPayload;
}
/** One of the kinds ChatEvent.payload can hold, tagged by `type`. */
export type ChatEventPayload =
  | ({ type: 'ChatMessageSent' } & ChatMessageSent)
  | ({ type: 'ChatMessageDeleted' } & ChatMessageDeleted)
  | ({ type: 'UserTimedOut' } & UserTimedOut)
  | ({ type: 'UserBanned' } & UserBanned)
  | ({ type: 'UserUnbanned' } & UserUnbanned)
  | ({ type: 'ModeratorAdded' } & ModeratorAdded)
  | ({ type: 'ModeratorRemoved' } & ModeratorRemoved);

/** The streamer or one of their moderators deleted a message. Gateways tell viewers to hide it; the archiver removes its content from history. */
export interface ChatMessageDeleted {
  /** The deleted message's id (a time-based UUID, so it names its own time bucket). */
  messageId: string;
  /** User id of the streamer or moderator who deleted it. */
  actorId: string;
}

/** A chat gateway accepted a message. Viewers see it only after it is on the topic. */
export interface ChatMessageSent {
  /** Assigned by the gateway; time-ordered; the Cassandra row key. */
  messageId: string;
  /** Sender's user id. */
  userId: string;
  /** Sender's display name at send time. */
  username: string;
  /** Badges shown next to the name (e.g. 'moderator', 'broadcaster'). */
  badges: string[];
  /** 1-500 characters, NFC-normalised, control characters stripped. */
  content: string;
  /** Optional '#rrggbb' name colour. */
  color: string | null;
}

/** The streamer named a moderator of their chat: they may delete messages and time out or ban viewers. */
export interface ModeratorAdded {
  /** The new moderator. */
  userId: string;
  /** User id of the streamer. */
  actorId: string;
}

/** The streamer took a user's moderator role away. */
export interface ModeratorRemoved {
  /** The former moderator. */
  userId: string;
  /** User id of the streamer. */
  actorId: string;
}

/** A user may no longer send in this stream's chat, until a UserUnbanned. */
export interface UserBanned {
  /** The user banned. */
  userId: string;
  /** User id of the streamer or moderator who did it. */
  actorId: string;
  /** Optional reason shown to moderators. */
  reason: string | null;
}

/** A user may not send in this stream's chat until occurredAt + durationSeconds. */
export interface UserTimedOut {
  /** The user timed out. */
  userId: string;
  /** User id of the streamer or moderator who did it. */
  actorId: string;
  /** How long the timeout lasts, 1 s to 14 days. */
  durationSeconds: number;
  /** Optional reason shown to moderators. */
  reason: string | null;
}

/** Lifts a ban (and any running timeout) on a user in this stream's chat. */
export interface UserUnbanned {
  /** The user unbanned. */
  userId: string;
  /** User id of the streamer or moderator who did it. */
  actorId: string;
}

/** Value of live.ingest.leases, keyed by nodeId (compacted: the newest per node is its lease now). An ingest node renews its lease every few seconds while it runs and releases it when it shuts down; a node whose lease ran out is presumed lost, and the ingest watchdog ends the streams still live on it once the reconnect grace has passed too. */
export interface IngestLease {
  /** Unique id of this event. */
  eventId: string;
  /** When the node renewed (or released) the lease, by its clock. */
  occurredAt: number;
  /** The ingest node, as StreamWentLive.ingestNode names it; also the Kafka key. */
  nodeId: string;
  /** The lease holds until then unless renewed; equal to occurredAt on a release. */
  validUntil: number;
  /** The node shut down on purpose and ended its own streams; nothing should remain live on it. */
  released: boolean;
}

/** Why a worker announced this ladder. UNKNOWN is what a reader sees for a reason added after its schema. */
export type LadderReason = 'UNKNOWN' | 'START' | 'BELOW_REAL_TIME' | 'CAPACITY_FREED';
export const LadderReasonValues = ['UNKNOWN', 'START', 'BELOW_REAL_TIME', 'CAPACITY_FREED'] as const;

/** Value of live.media.segments, keyed by streamId: what media workers produced. The packager builds playlists from these alone. */
export interface MediaEvent {
  /** Unique id of this event. */
  eventId: string;
  /** When the worker emitted it. */
  occurredAt: number;
  /** The stream; also the Kafka key. */
  streamId: string;
  /** The media worker instance that produced it. */
  workerId: string;
  /** What was produced. */
  payload: MediaEventPayload;
}
/** One of the kinds MediaEvent.payload can hold, tagged by `type`. */
export type MediaEventPayload =
  | ({ type: 'SegmentReady' } & SegmentReady)
  | ({ type: 'RenditionLadder' } & RenditionLadder)
  | ({ type: 'ThumbnailReady' } & ThumbnailReady)
  | ({ type: 'PartReady' } & PartReady)
  | ({ type: 'TranscodeRefused' } & TranscodeRefused);

/** A partial segment (LL-HLS EXT-X-PART, a CMAF chunk) of one rendition is complete on origin storage. A segment's parts come before its SegmentReady, on the same partition. */
export interface PartReady {
  /** Ladder rung, e.g. '720p'. */
  rendition: string;
  /** Media sequence number of the parent segment. */
  sequence: number;
  /** Index of the part within its segment, from 0. */
  part: number;
  /** Duration of the part's video. */
  durationMs: number;
  /** Starts with a keyframe (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
  /** Path relative to the stream's origin folder, e.g. '720p/000042.3.m4s'. */
  uri: string;
  /** The fMP4 init section it needs (EXT-X-MAP), e.g. '720p/init-000040.mp4'. */
  initUri: string;
  /** Size on disk. */
  bytes: number;
  /** Wall-clock time of the part's first frame. */
  programDateTime: number;
  /** The parent segment is the first after a worker restart or source change. */
  discontinuity: boolean;
}

/** Why a media worker will not transcode a source. UNKNOWN is what a reader sees for a code added after its schema. */
export type RefusalCode = 'UNKNOWN' | 'NO_VIDEO' | 'UNSUPPORTED_CODEC' | 'OVER_LIMITS';
export const RefusalCodeValues = ['UNKNOWN', 'NO_VIDEO', 'UNSUPPORTED_CODEC', 'OVER_LIMITS'] as const;

/** One rung of the adaptive ladder, never above the source's resolution or frame rate. */
export interface Rendition {
  /** e.g. '1080p60', '720p'. */
  name: string;
  /** Pixels. */
  width: number;
  /** Pixels. */
  height: number;
  /** Frames per second. */
  frameRate: number;
  /** Target video bits per second. */
  videoBitrate: number;
  /** AAC bits per second. */
  audioBitrate: number;
  /** RFC 6381 CODECS attribute for the master playlist. */
  codecs: string;
}

/** The ladder a worker chose for a stream; the packager writes the master playlist from it. */
export interface RenditionLadder {
  /** Highest first. */
  renditions: Rendition[];
  /** Target segment duration (2000 standard, 1000 low latency). */
  segmentDurationMs: number;
  /** 'libx264' or 'h264_nvenc'. */
  encoder: string;
  /** LL-HLS part target (EXT-X-PART-INF PART-TARGET): no part is longer; 0 when the worker cuts no parts. */
  partTargetMs: number;
  /** START for a run's own ladder (a new broadcast, a restart after ffmpeg died, a takeover); BELOW_REAL_TIME when rungs were dropped because the transcode fell behind; CAPACITY_FREED when a rung came back. */
  reason: LadderReason;
  /** Rungs the source's full ladder has that this one lacks (capacity), highest first; empty at full quality. A ladder of one 'source' rendition is the source remuxed, not re-encoded. */
  dropped: string[];
}

/** A media segment of one rendition is complete on origin storage (renamed into place atomically). */
export interface SegmentReady {
  /** Ladder rung, e.g. '720p'. */
  rendition: string;
  /** Media sequence number; continuous across worker restarts. */
  sequence: number;
  /** Exact segment duration. */
  durationMs: number;
  /** Path relative to the stream's origin folder, e.g. '720p/000042.m4s' (CMAF) or '720p/000042.ts' (recorded before CMAF). */
  uri: string;
  /** Size on disk. */
  bytes: number;
  /** Wall-clock time of the segment's first frame (EXT-X-PROGRAM-DATE-TIME). */
  programDateTime: number;
  /** True for the first segment after a worker restart or source change. */
  discontinuity: boolean;
  /** The fMP4 init section the segment needs (EXT-X-MAP); null for MPEG-TS segments. */
  initUri: string | null;
}

/** One stream's transcode as its worker measures it. */
export interface StreamLoad {
  /** The stream. */
  streamId: string;
  /** Rungs its ffmpeg runs now, highest first ('source': remuxed). */
  renditions: string[];
  /** Rungs of its full ladder dropped for capacity. */
  dropped: string[];
  /** Media seconds encoded per wall second over the last progress interval (ffmpeg's progress); below 1 is slower than real time; null before the first report. */
  speed: number | null;
  /** How far its newest part's last frame is behind the run's wall clock; null before the first part. */
  lagMs: number | null;
  /** CPU its ffmpeg used over the last interval, in cores (1.0 = one core busy); null before it was measured. */
  cpuCores: number | null;
}

/** A fresh preview image of the stream (every 10 s while live). */
export interface ThumbnailReady {
  /** Path relative to the stream's origin folder. */
  uri: string;
  /** Pixels. */
  width: number;
  /** Pixels. */
  height: number;
}

/** A media worker will not transcode this source (once per StreamWentLive): the stream stays live without renditions until a new publish brings a source it can use. */
export interface TranscodeRefused {
  /** What is wrong with the source. */
  code: RefusalCode;
  /** One sentence for the streamer and the operator, e.g. 'the broadcast has no video: ...'. */
  reason: string;
}

/** Value of live.media.capacity, keyed by workerId (compacted: the newest per worker is what it runs now). A media worker's load, emitted when a transcode starts, stops or changes its ladder, and periodically; a worker that stops says so with stopping=true and no streams. */
export interface WorkerCapacity {
  /** Unique id of this event. */
  eventId: string;
  /** When it was measured. */
  occurredAt: number;
  /** The media worker instance; also the Kafka key. */
  workerId: string;
  /** CPU cores of the worker's machine. */
  cpuCount: number;
  /** Busy cores of the whole machine over the last interval (anyone's work); null before it was measured. */
  cpuBusy: number | null;
  /** 'libx264' or 'h264_nvenc'. */
  encoder: string;
  /** 'cpu' or 'cuda'. */
  decoder: string;
  /** Every stream it transcodes now. */
  streams: StreamLoad[];
  /** The worker is shutting down: its streams move to others. */
  stopping: boolean;
}

/** Value of live.notifications, keyed by recipientId. notificationId is derived from (stream, start, recipient), so a redelivered fan-out creates nothing new. */
export interface NotificationCreated {
  /** Unique id of this event. */
  eventId: string;
  /** When the notifier created it. */
  occurredAt: number;
  /** Who is notified; also the Kafka key. */
  recipientId: string;
  /** Deterministic id; the storage key. */
  notificationId: string;
  /** What it is about. */
  kind: NotificationKind;
  /** The stream that went live. */
  streamId: string;
  /** Who went live. */
  streamerId: string;
  /** Display name for the notification text. */
  streamerName: string;
  /** Stream title at go-live time. */
  title: string;
}

/** What a notification is about. UNKNOWN is what a reader sees for a kind added after its schema. */
export type NotificationKind = 'UNKNOWN' | 'STREAM_WENT_LIVE';
export const NotificationKindValues = ['UNKNOWN', 'STREAM_WENT_LIVE'] as const;

/** Why a stream ended. UNKNOWN is what a reader sees for a reason added after its schema. INGEST_NODE_LOST: the ingest node the stream was live on stopped renewing its lease (live.ingest.leases) and the encoder did not reconnect elsewhere within the reconnect grace. */
export type EndReason =
  'UNKNOWN' | 'STREAMER_ENDED' | 'PUBLISHER_DISCONNECTED' | 'INGEST_TIMEOUT' | 'ADMIN' | 'INGEST_NODE_LOST';
export const EndReasonValues = [
  'UNKNOWN',
  'STREAMER_ENDED',
  'PUBLISHER_DISCONNECTED',
  'INGEST_TIMEOUT',
  'ADMIN',
  'INGEST_NODE_LOST',
] as const;

/** Delivery latency tier the streamer chose: STANDARD ~3 s (2 s segments), LOW ~1 s (1 s segments, LL-HLS), ULTRA_LOW <500 ms (WebRTC, not built yet). */
export type LatencyMode = 'STANDARD' | 'LOW' | 'ULTRA_LOW';
export const LatencyModeValues = ['STANDARD', 'LOW', 'ULTRA_LOW'] as const;

/** A streamer created a stream through the API; it is 'ready' until ingest receives media. The stream key itself never appears in any event, only its hash. */
export interface StreamCreated {
  /** User id of the owner; only they may update or end the stream. */
  streamerId: string;
  /** Display name of the owner at creation time (searchable). */
  streamerName: string;
  /** 1-200 characters after trimming. */
  title: string;
  /** Browse category, e.g. 'Gaming'. */
  category: string;
  /** At most 10 tags of at most 25 characters, lower-cased. */
  tags: string[];
  /** Latency tier; decides the segment duration. */
  latencyMode: LatencyMode;
  /** Whether the packager keeps a VOD when the stream ends. */
  recordingEnabled: boolean;
  /** Whether chat accepts messages for this stream. */
  chatEnabled: boolean;
  /** Hex SHA-256 of the secret stream key; RTMP ingest authenticates against it. */
  streamKeyHash: string;
}

/** The stream is over: the owner ended it, or its publisher disconnected or timed out. Ended streams never go live again. */
export interface StreamEnded {
  /** Why it ended. */
  reason: EndReason;
  /** User id for STREAMER_ENDED or ADMIN; null when ingest ended it. */
  endedBy: string | null;
}

/** Value of live.stream.lifecycle, keyed by streamId. The topic is the stream registry: kept forever, replayed to rebuild every stream projection. */
export interface StreamLifecycleEvent {
  /** Unique id of this event; consumers de-duplicate on it. */
  eventId: string;
  /** When the change happened, by the producer's clock. */
  occurredAt: number;
  /** The stream this event is about; also the Kafka key. */
  streamId: string;
  /** What happened. */
  payload: StreamLifecycleEventPayload;
}
/** One of the kinds StreamLifecycleEvent.payload can hold, tagged by `type`. */
export type StreamLifecycleEventPayload =
  | ({ type: 'StreamCreated' } & StreamCreated)
  | ({ type: 'StreamUpdated' } & StreamUpdated)
  | ({ type: 'StreamWentLive' } & StreamWentLive)
  | ({ type: 'StreamEnded' } & StreamEnded);

/** The owner changed stream metadata. A null field means 'unchanged'. */
export interface StreamUpdated {
  /** New title, or null if unchanged. */
  title: string | null;
  /** New category, or null if unchanged. */
  category: string | null;
  /** Replacement tag list, or null if unchanged. */
  tags: string[] | null;
  /** User id that made the change (the owner). */
  updatedBy: string;
}

/** Ingest received the first media for the stream. Media workers start transcoding from sourceUrl. */
export interface StreamWentLive {
  /** When the first media arrived at ingest; the stream's broadcast start. */
  startedAt: number;
  /** Where a media worker pulls the ingested source from (internal URL, carries no secret). */
  sourceUrl: string;
  /** Which ingest instance holds the publisher connection. */
  ingestNode: string;
  /** Source video width in pixels, if known. */
  width: number | null;
  /** Source video height in pixels, if known. */
  height: number | null;
  /** Source frames per second, if known. */
  frameRate: number | null;
  /** Source video codec, e.g. 'h264'. */
  videoCodec: string | null;
  /** Source audio codec, e.g. 'aac'; null when the source has no audio. */
  audioCodec: string | null;
}

/** followerId started following the streamer (the Kafka key). */
export interface Followed {
  /** The user who follows. */
  followerId: string;
}

/** Value of live.user.follows, keyed by streamerId so one streamer's follow history is ordered; the latest event per (streamer, follower) wins. */
export interface FollowEvent {
  /** Unique id of this event. */
  eventId: string;
  /** When the API accepted it. */
  occurredAt: number;
  /** The followed user; also the Kafka key. */
  streamerId: string;
  /** What happened. */
  payload: FollowEventPayload;
}
/** One of the kinds FollowEvent.payload can hold, tagged by `type`. */
export type FollowEventPayload = ({ type: 'Followed' } & Followed) | ({ type: 'Unfollowed' } & Unfollowed);

/** followerId stopped following the streamer (the Kafka key). */
export interface Unfollowed {
  /** The user who stopped following. */
  followerId: string;
}

/** Value of live.user.revocations (compacted), keyed by userId: every bearer token and WebSocket ticket of the user issued before revokedBefore is refused by every gateway. */
export interface UserTokensRevoked {
  /** Unique id of this event. */
  eventId: string;
  /** When the revocation was decided. */
  occurredAt: number;
  /** The user whose tokens are revoked; also the Kafka key. */
  userId: string;
  /** Epoch seconds: a token or ticket whose iat is before it is refused. Only ever moves forward. */
  revokedBefore: number;
  /** Who asked: the user, an admin's id, or null for the operator's command line. */
  revokedBy: string | null;
}

/** CONNECT and DISCONNECT come from the gateway's socket lifecycle; HEARTBEAT from the player every 10 s. */
export type HeartbeatKind = 'CONNECT' | 'HEARTBEAT' | 'DISCONNECT';
export const HeartbeatKindValues = ['CONNECT', 'HEARTBEAT', 'DISCONNECT'] as const;

/** Value of live.viewer.counts (compacted, keyed by streamId): absolute counts, never increments, so the latest record per key is the truth. */
export interface ViewerCountChanged {
  /** Unique id of this event. */
  eventId: string;
  /** End of the window the count describes. */
  occurredAt: number;
  /** The counted stream; also the Kafka key. */
  streamId: string;
  /** Distinct sessions with a heartbeat in the last 30 s. */
  viewers: number;
  /** Highest 'viewers' seen for this broadcast. */
  peakViewers: number;
  /** Of 'viewers', how many are on each rendition (their latest heartbeat's quality; 'unknown' when none was reported). */
  qualities: Record<string, number>;
  /** Share of the counted sessions' latest heartbeat intervals spent buffering, 0..1. */
  bufferingRatio: number;
}

/** Value of live.viewer.heartbeats, keyed by streamId: one player session's presence signal. */
export interface ViewerHeartbeat {
  /** Unique id of this event. */
  eventId: string;
  /** Gateway receive time (clamped; never the client's clock). */
  occurredAt: number;
  /** The watched stream; also the Kafka key. */
  streamId: string;
  /** Player session, unique per page load; the unit the counter counts. */
  sessionId: string;
  /** Signed-in viewer, or null for anonymous. */
  userId: string | null;
  /** Lifecycle signal. */
  kind: HeartbeatKind;
  /** Rendition the player is on, e.g. '720p'. */
  quality: string | null;
  /** Time spent buffering since the previous heartbeat, clamped to [0, 60000]. */
  bufferingMs: number;
  /** Player-measured glass to glass: how far the frame on screen was behind its program date time (the source's capture clock at ingest), on the gateway's clock; null when the player cannot tell (WebRTC, a recording) or its figure was out of range. */
  latencyMs: number | null;
  /** The gateway instance holding the socket. */
  gatewayId: string;
}

/** Value of live.viewer.playback, keyed by streamId: the media (segments and parts) one player session fetched through one edge in one interval. One event per session per stream per edge flush, never one per request. */
export interface ViewerPlayback {
  /** Unique id of this event. */
  eventId: string;
  /** When the edge published the interval (its clock). */
  occurredAt: number;
  /** The stream whose media was fetched; also the Kafka key. */
  streamId: string;
  /** The player session the requests named (?vsid=), the same id its presence socket holds. */
  sessionId: string;
  /** Time of the interval's first media request (the edge's access log). */
  firstAt: number;
  /** Time of the interval's last media request. */
  lastAt: number;
  /** Media requests answered with 2xx in the interval. */
  requests: number;
  /** Body bytes those requests were sent. */
  bytes: number;
  /** The edge that served them (EDGE_NAME). */
  edge: string;
}

/** Value of live.vod.deletions, keyed by streamId: the streamer deleted the recording of a broadcast. Final: a VodRecorded of the same stream, read before or after it, never brings the video back. The packager's retention removes the media after a grace period. */
export interface VodDeleted {
  /** Unique id of this event. */
  eventId: string;
  /** When the API accepted the deletion; the media grace period counts from here. */
  occurredAt: number;
  /** The recorded stream (the video's id); also the Kafka key. */
  streamId: string;
  /** User id of the stream's owner. */
  streamerId: string;
  /** User id of who deleted it (the owner). */
  deletedBy: string;
}

/** Value of live.vod.recordings, keyed by streamId: the packager wrote a complete VOD playlist for an ended, recorded stream. */
export interface VodRecorded {
  /** Unique id of this event. */
  eventId: string;
  /** When the VOD playlist was written. */
  occurredAt: number;
  /** The recorded stream; also the Kafka key. */
  streamId: string;
  /** Master playlist of the VOD, relative to the origin root. */
  playlistUri: string;
  /** Total duration of the recording. */
  durationMs: number;
  /** Segments in the longest rendition. */
  segmentCount: number;
  /** Broadcast start. */
  startedAt: number;
  /** Broadcast end. */
  endedAt: number;
  /** The renditions the VOD plays, so its qualities outlive live.media.segments' retention; null in events written before this field. */
  ladder: RenditionLadder | null;
  /** The stream's newest thumbnail when the VOD was written; null when it had none, and in events written before this field. */
  thumbnail: ThumbnailReady | null;
}
