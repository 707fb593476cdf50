import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatEvent, ChatEventPayload } from '../../schemas/generated/events.ts';
import { PoisonRecordError } from '../../platform/errors.ts';
import { TimeUuidGenerator } from '../../platform/timeuuid.ts';
import { BUCKET_MS, bucketOf } from '../../domain/chat/schema.ts';
import { chunk, planWrites, writeBytes, type MessageWrite } from './plan.ts';

const T0 = Date.UTC(2026, 1, 2, 10, 59, 58, 0);
const TTL = 30 * 86_400;
const limits = { maxRows: 100, maxBytes: 4096, ttlSeconds: TTL };

let seq = 0;
const ev = (occurredAt: number, payload: ChatEventPayload, streamId = 's1'): ChatEvent => ({
  eventId: `e${++seq}`,
  occurredAt,
  streamId,
  payload,
});
const sent = (at: number, content = 'hi', userId = 'u1', streamId = 's1'): ChatEvent =>
  ev(
    at,
    {
      type: 'ChatMessageSent',
      messageId: new TimeUuidGenerator().next(at),
      userId,
      username: userId.toUpperCase(),
      badges: [],
      content,
      color: null,
    },
    streamId,
  );

describe('archiver write plan', () => {
  it('given messages on both sides of an hour, then one batch per (stream, hour) partition, in order', () => {
    const events = [sent(T0), sent(T0 + 1000), sent(T0 + 3000), sent(T0 + 3000, 'x', 'u2', 's2')];
    const plan = planWrites(events, T0 + 5000, limits);
    assert.deepEqual(
      plan.messages.map((b) => [b.streamId, b.bucket, b.writes.length]),
      [
        ['s1', bucketOf(T0), 2],
        ['s1', bucketOf(T0) + 1, 1],
        ['s2', bucketOf(T0) + 1, 1],
      ],
    );
    assert.equal(bucketOf(T0 + 3000) * BUCKET_MS, Date.UTC(2026, 1, 2, 11));
    assert.deepEqual(
      plan.buckets.find((b) => b.streamId === 's1')?.buckets.map((b) => b.bucket),
      [bucketOf(T0), bucketOf(T0) + 1],
    );
    assert.deepEqual(
      plan.minutes.map(({ streamId, minute, sent }) => [streamId, minute, sent.map((s) => s.userId)]),
      [
        ['s1', Date.UTC(2026, 1, 2, 10, 59), ['u1', 'u1']],
        ['s1', Date.UTC(2026, 1, 2, 11, 0), ['u1']],
        ['s2', Date.UTC(2026, 1, 2, 11, 0), ['u2']],
      ],
    );
    assert.deepEqual(
      plan.minutes[0]!.sent.map((s) => s.messageId),
      events.slice(0, 2).map((e) => (e.payload as { messageId: string }).messageId),
    );
  });

  it('stamps each write with its event time and the retention left from it, so a replay writes the same cells', () => {
    const e = sent(T0);
    const [live] = planWrites([e], T0 + 1000, limits).messages[0]!.writes;
    const [replayed] = planWrites([e], T0 + 7 * 86_400_000 + 1000, limits).messages[0]!.writes;
    assert.equal(live!.at, T0 * 1000);
    assert.equal(live!.ttl, TTL - 1);
    assert.deepEqual({ ...replayed, ttl: 0 }, { ...live, ttl: 0 });
    assert.equal(replayed!.ttl, TTL - 7 * 86_400 - 1, 'expires when the live row does');
  });

  it('skips what has already outlived the retention', () => {
    const plan = planWrites([sent(T0)], T0 + (TTL + 1) * 1000, limits);
    assert.equal(plan.messages.length, 0);
  });

  it('a deletion lands in the message own partition, stamped after the message even from a slower clock', () => {
    const m = sent(T0);
    const messageId = (m.payload as { messageId: string }).messageId;
    const del = ev(T0 - 50, { type: 'ChatMessageDeleted', messageId, actorId: 'mod' });
    const plan = planWrites([m, del], T0 + 10, limits);
    assert.equal(plan.messages.length, 1);
    const [insert, deletion] = plan.messages[0]!.writes;
    assert.equal(deletion!.kind, 'delete');
    assert.ok(deletion!.at > insert!.at);
    assert.equal(deletion!.ttl, insert!.ttl);
  });

  it('moderation events become last-writer-wins cells per stream', () => {
    const plan = planWrites(
      [
        ev(T0, { type: 'UserBanned', userId: 'u9', actorId: 'mod', reason: null }),
        ev(T0 + 1, { type: 'UserUnbanned', userId: 'u9', actorId: 'mod' }),
        ev(T0 + 2, { type: 'ModeratorAdded', userId: 'u3', actorId: 'owner' }, 's2'),
      ],
      T0,
      limits,
    );
    assert.deepEqual(plan.moderation, [
      {
        streamId: 's1',
        effects: [
          { streamId: 's1', userId: 'u9', column: 'banned', value: true, at: T0 * 1000 },
          { streamId: 's1', userId: 'u9', column: 'banned', value: false, at: (T0 + 1) * 1000 },
          { streamId: 's1', userId: 'u9', column: 'timeout_until', value: 0, at: (T0 + 1) * 1000 },
        ],
      },
      {
        streamId: 's2',
        effects: [{ streamId: 's2', userId: 'u3', column: 'moderator', value: true, at: (T0 + 2) * 1000 }],
      },
    ]);
    assert.equal(plan.messages.length, 0);
  });

  it('a message id that is not time-based is a poison record', () => {
    const bad = ev(T0, {
      type: 'ChatMessageSent',
      messageId: 'msg_1',
      userId: 'u',
      username: 'u',
      badges: [],
      content: 'x',
      color: null,
    });
    assert.throws(() => planWrites([bad], T0, limits), PoisonRecordError);
  });

  it('chunks a partition by rows and by bytes, keeping order; an oversize row goes alone', () => {
    const w = (content: string): MessageWrite => ({
      kind: 'insert',
      messageId: content,
      userId: 'u',
      username: 'u',
      badges: [],
      content,
      color: null,
      at: 0,
      ttl: 1,
    });
    const small = Array.from({ length: 250 }, (_, i) => w(`m${i}`));
    assert.deepEqual(
      chunk(small, { maxRows: 100, maxBytes: 1e9 }).map((c) => c.length),
      [100, 100, 50],
    );
    const big = Array.from({ length: 10 }, (_, i) => w(`${i}`.padEnd(1000, 'x')));
    const byBytes = chunk(big, { maxRows: 100, maxBytes: 4096 });
    assert.deepEqual(
      byBytes.map((c) => c.length),
      [3, 3, 3, 1],
    );
    for (const c of byBytes) assert.ok(c.reduce((n, x) => n + writeBytes(x), 0) <= 4096);
    assert.deepEqual(
      byBytes.flat().map((x) => x.messageId),
      big.map((x) => x.messageId),
    );
    assert.deepEqual(
      chunk([w('y'.repeat(9000))], { maxRows: 100, maxBytes: 4096 }).map((c) => c.length),
      [1],
    );
  });
});
