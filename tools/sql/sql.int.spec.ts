import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Json } from '@duckdb/node-api';
import { testBus } from '../../tests/support/bus.ts';
import { serverEnv } from '../../tests/support/endpoints.ts';
import { ServiceProcess } from '../../tests/support/process.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { REPO_ROOT } from '../../platform/paths.ts';
import type {
  NotificationCreated,
  StreamLifecycleEvent,
  StreamLifecycleEventPayload,
  ViewerCountChanged,
  ViewerHeartbeat,
  ChatEvent,
} from '../../schemas/generated/events.ts';
import { ArchiveEngine } from './engine.ts';

const MIN = 60_000;
/** Generated history starts here (a fixed past hour), so every answer below is known. */
const T0 = Date.UTC(2026, 10, 1, 10, 0, 0);
const ts = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('.000Z', '');

const lifecycle = (streamId: string, at: number, payload: StreamLifecycleEventPayload): StreamLifecycleEvent => ({
  eventId: randomUUID(),
  occurredAt: at,
  streamId,
  payload,
});

function history() {
  const streams: StreamLifecycleEvent[] = [];
  const ends: Array<[string, string, number, 'STREAMER_ENDED' | 'PUBLISHER_DISCONNECTED']> = [
    ['sA', 'Gaming', 61, 'STREAMER_ENDED'],
    ['sB', 'Gaming', 31, 'PUBLISHER_DISCONNECTED'],
    ['sC', 'Music', 21, 'STREAMER_ENDED'],
  ];
  for (const [id, category, endMin, reason] of ends) {
    streams.push(
      lifecycle(id, T0, {
        type: 'StreamCreated',
        streamerId: `owner-${id}`,
        streamerName: id,
        title: `${id} live`,
        category,
        tags: [],
        latencyMode: 'STANDARD',
        recordingEnabled: true,
        chatEnabled: true,
        streamKeyHash: 'x',
      }),
      lifecycle(id, T0 + MIN, {
        type: 'StreamWentLive',
        startedAt: T0 + MIN,
        sourceUrl: 'rtmp://ingest/x',
        ingestNode: 'ingest-1',
        width: null,
        height: null,
        frameRate: null,
        videoCodec: null,
        audioCodec: null,
      }),
      lifecycle(id, T0 + endMin * MIN, { type: 'StreamEnded', reason, endedBy: null }),
    );
  }
  const count = (streamId: string, at: number, viewers: number): ViewerCountChanged => ({
    eventId: randomUUID(),
    occurredAt: at,
    streamId,
    viewers,
    peakViewers: viewers,
    qualities: {},
    bufferingRatio: 0,
  });
  const counts = [
    count('sA', T0 + 90_000, 10),
    count('sA', T0 + 190_000, 20),
    count('sB', T0 + 150_000, 5),
    count('sC', T0 + 70_000, 7),
  ];
  const chat: ChatEvent[] = [];
  const say = (streamId: string, minute: number, n: number, users: number): void => {
    for (let i = 0; i < n; i++)
      chat.push({
        eventId: randomUUID(),
        occurredAt: T0 + minute * MIN + i * 1000,
        streamId,
        payload: {
          type: 'ChatMessageSent',
          messageId: randomUUID(),
          userId: `u${i % users}`,
          username: `u${i % users}`,
          badges: [],
          content: `hi ${i}`,
          color: null,
        },
      });
  };
  say('sA', 5, 12, 4);
  say('sB', 5, 3, 3);
  say('sA', 6, 7, 2);
  const beats: ViewerHeartbeat[] = [];
  const watch = (sessionId: string, userId: string | null, streamId: string, atMinutes: number[]): void => {
    for (const m of atMinutes)
      beats.push({
        eventId: randomUUID(),
        occurredAt: T0 + m * MIN,
        streamId,
        sessionId,
        userId,
        kind: 'HEARTBEAT',
        quality: null,
        bufferingMs: 0,
        latencyMs: null,
        gatewayId: 'g1',
      });
  };
  watch('s1', 'f1', 'sA', [1.5, 6.5, 11.5, 16.5, 21.5, 26.5, 31.5, 36.5, 41.5]); // 40 min
  watch('s2', 'f2', 'sA', [2, 6, 10, 14, 18]); // 16 min
  watch('s3', null, 'sA', [3, 9]); // 6 min
  watch('s4', 'f9', 'sA', [4]);
  watch('s5', 'f4', 'sA', [15]); // notified at 1: came too late
  const notifications: NotificationCreated[] = ['f1', 'f2', 'f3', 'f4'].map((recipientId) => ({
    eventId: randomUUID(),
    occurredAt: T0 + MIN,
    recipientId,
    notificationId: `n-${recipientId}`,
    kind: 'STREAM_WENT_LIVE',
    streamId: 'sA',
    streamerId: 'owner-sA',
    streamerName: 'sA',
    title: 'sA live',
  }));
  return { streams, counts, chat, beats, notifications };
}

const saved = async (engine: ArchiveEngine, name: string): Promise<Array<Record<string, Json>>> => {
  const { columns, rows } = await engine.query(
    await readFile(join(REPO_ROOT, 'analytics', 'queries', `${name}.sql`), 'utf8'),
  );
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]!])));
};

describe('saved queries over the archive (real Kafka, the archive sink, DuckDB)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('answer the questions of #27 with the known truths of a generated history', async () => {
    const bus = testBus('sql');
    const keys = ['streamLifecycle', 'viewerCounts', 'chatMessages', 'viewerHeartbeats', 'notifications'] as const;
    await bus.init([...keys]);
    const producer = bus.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const h = history();
    await producer.publish(bus.topic('streamLifecycle'), h.streams);
    await producer.publish(bus.topic('viewerCounts'), h.counts);
    await producer.publish(bus.topic('chatMessages'), h.chat);
    await producer.publish(bus.topic('viewerHeartbeats'), h.beats);
    await producer.publish(bus.topic('notifications'), h.notifications);

    const root = await mkdtemp(join(tmpdir(), 'sql-archive-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const archive = new ServiceProcess('archive', 'sinks/archive/main.ts', {
      ...serverEnv(bus.config.topicPrefix),
      ARCHIVE_ROOT: root,
      ARCHIVE_TOPICS: keys.join(','),
      ARCHIVE_FLUSH_MS: '200',
      METRICS_PORT: '0',
    });
    cleanups.push(async () => void (await archive.kill('SIGTERM')));
    const total = h.streams.length + h.counts.length + h.chat.length + h.beats.length + h.notifications.length;
    const engine = await waitFor(
      'everything archived',
      async () => {
        const e = await ArchiveEngine.open(root);
        const views = e.views.filter((v) => v.kind === 'topic').map((v) => v.view);
        const n =
          views.length === keys.length
            ? Number(
                (await e.query(views.map((v) => `SELECT count(*) FROM ${v}`).join(' UNION ALL '))).rows.reduce(
                  (s, r) => s + Number(r[0]),
                  0,
                ),
              )
            : 0;
        if (n === total) return e;
        e.close();
        return false;
      },
      90_000,
    );
    cleanups.push(async () => engine.close());

    assert.deepEqual(
      (await saved(engine, 'viewers_by_category')).map((r) => [r.minute, r.category, r.viewers, r.live_streams]),
      [
        [ts(T0 + MIN), 'Gaming', 10, 1],
        [ts(T0 + MIN), 'Music', 7, 1],
        [ts(T0 + 2 * MIN), 'Gaming', 15, 2],
        [ts(T0 + 2 * MIN), 'Music', 7, 1],
        [ts(T0 + 3 * MIN), 'Gaming', 25, 2],
        [ts(T0 + 3 * MIN), 'Music', 7, 1],
      ],
    );
    assert.deepEqual(
      (await saved(engine, 'chat_per_minute')).map((r) => [r.rank, r.streamId, r.minute, r.messages, r.chatters]),
      [
        [1, 'sA', ts(T0 + 5 * MIN), 12, 4],
        [2, 'sA', ts(T0 + 6 * MIN), 7, 2],
        [3, 'sB', ts(T0 + 5 * MIN), 3, 3],
      ],
    );
    assert.deepEqual(
      (await saved(engine, 'stream_durations')).map((r) => [
        r.streamId,
        r.minutes,
        r.reason,
        r.by_error,
        r.pct_ended_by_error,
      ]),
      [
        ['sA', 60, 'STREAMER_ENDED', false, 33.3],
        ['sB', 30, 'PUBLISHER_DISCONNECTED', true, 33.3],
        ['sC', 20, 'STREAMER_ENDED', false, 33.3],
      ],
    );
    assert.deepEqual(await saved(engine, 'notification_reach'), [
      { streamId: 'sA', notified: 4, watched_within_10m: 2, pct: 50 },
    ]);
    assert.deepEqual(await saved(engine, 'viewer_retention'), [
      { streamId: 'sA', sessions: 5, after_5m: 3, after_15m: 2, after_30m: 1 },
    ]);
    assert.equal((await archive.kill('SIGTERM')).code, 0, archive.tail());
  });
});
