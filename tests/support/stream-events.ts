import { randomUUID } from 'node:crypto';
import type {
  StreamCreated,
  StreamLifecycleEvent,
  StreamLifecycleEventPayload,
  StreamUpdated,
  ViewerCountChanged,
} from '../../schemas/generated/events.ts';

/** Builders of valid events for specs that publish straight to the topics (as ingest or the counter will). */
const envelope = (
  streamId: string,
  payload: StreamLifecycleEventPayload,
  occurredAt = Date.now(),
): StreamLifecycleEvent => ({
  eventId: randomUUID(),
  occurredAt,
  streamId,
  payload,
});

export const streamEvents = {
  created: (streamId: string, o: Partial<StreamCreated> = {}): StreamLifecycleEvent =>
    envelope(streamId, {
      type: 'StreamCreated',
      streamerId: 'user_1',
      streamerName: 'alice',
      title: 'A stream',
      category: 'Gaming',
      tags: [],
      latencyMode: 'STANDARD',
      recordingEnabled: true,
      chatEnabled: true,
      streamKeyHash: randomUUID().replaceAll('-', '').repeat(2),
      ...o,
    }),
  updated: (streamId: string, o: Partial<StreamUpdated>): StreamLifecycleEvent =>
    envelope(streamId, { type: 'StreamUpdated', title: null, category: null, tags: null, updatedBy: 'user_1', ...o }),
  wentLive: (streamId: string, startedAt = Date.now()): StreamLifecycleEvent =>
    envelope(streamId, {
      type: 'StreamWentLive',
      startedAt,
      sourceUrl: `rtmp://127.0.0.1:1935/live/${streamId}`,
      ingestNode: 'ingest-test',
      width: 1920,
      height: 1080,
      frameRate: 30,
      videoCodec: 'h264',
      audioCodec: 'aac',
    }),
  ended: (streamId: string): StreamLifecycleEvent =>
    envelope(streamId, { type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null }),
  viewers: (streamId: string, viewers: number, peakViewers = viewers): ViewerCountChanged => ({
    eventId: randomUUID(),
    occurredAt: Date.now(),
    streamId,
    viewers,
    peakViewers,
    qualities: {},
    bufferingRatio: 0,
  }),
};
