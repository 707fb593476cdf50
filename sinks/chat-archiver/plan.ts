import type { ChatEvent } from '../../schemas/generated/events.ts';
import { PoisonRecordError } from '../../platform/errors.ts';
import { isTimeUuid, timeOfTimeUuid } from '../../platform/timeuuid.ts';
import { moderationEffects, type ModerationEffect } from '../../domain/chat/moderation.ts';
import { bucketOf } from '../../domain/chat/schema.ts';

/**
 * The archiver's pure core: a chunk of chat events in, the Cassandra writes they mean out, grouped
 * so that every unlogged batch stays inside one partition and under both a row cap and a byte
 * budget (Cassandra warns on batches over 5 KiB by default).
 *
 * Every write carries its event's time as the cell write time (`USING TIMESTAMP`, µs) and a TTL of
 * what is left of the retention counted from the event, not from now. So the same events give the
 * same rows whether they are written live, redelivered after a crash or replayed a week later, in
 * whatever order batches land: a redelivered insert rewrites identical cells, and a deletion
 * (stamped after the message it deletes) wins over the insert even if it lands first.
 */
export const minuteOf = (ms: number): number => ms - (ms % 60_000);

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
  ttlSeconds: number;
}

export type MessageWrite =
  | {
      kind: 'insert';
      messageId: string;
      userId: string;
      username: string;
      badges: string[];
      content: string;
      color: string | null;
      at: number;
      ttl: number;
    }
  | { kind: 'delete'; messageId: string; actorId: string; at: number; ttl: number };

export interface PartitionBatch {
  streamId: string;
  bucket: number;
  writes: MessageWrite[];
}

export interface WritePlan {
  /** chat_messages, one batch per partition chunk. */
  messages: PartitionBatch[];
  /** chat_buckets rows, grouped per stream (one partition each), with the longest TTL seen. */
  buckets: Array<{ streamId: string; buckets: Array<{ bucket: number; ttl: number }> }>;
  /** chat_moderation cells, grouped per stream (one partition each). */
  moderation: Array<{ streamId: string; effects: ModerationEffect[] }>;
  /**
   * Minutes whose stats change once the messages are written, with the TTL their row gets and the
   * messages (id and sender) the chunk adds to each.
   */
  minutes: MinuteWrite[];
}

export interface MinuteWrite {
  streamId: string;
  minute: number;
  ttl: number;
  sent: Array<{ messageId: string; userId: string }>;
}

const ROW_OVERHEAD_BYTES = 64;

export function planWrites(events: ChatEvent[], now: number, limits: BatchLimits): WritePlan {
  const partitions = new Map<string, { streamId: string; bucket: number; writes: MessageWrite[] }>();
  const buckets = new Map<string, Map<number, number>>();
  const moderation = new Map<string, ModerationEffect[]>();
  const minutes = new Map<string, MinuteWrite>();
  const ttlFrom = (ms: number): number => Math.ceil(limits.ttlSeconds - (now - ms) / 1000);

  const addWrite = (streamId: string, bucket: number, write: MessageWrite): void => {
    const key = `${streamId}\u0000${bucket}`;
    const p = partitions.get(key) ?? { streamId, bucket, writes: [] };
    p.writes.push(write);
    partitions.set(key, p);
    const perStream = buckets.get(streamId) ?? new Map<number, number>();
    perStream.set(bucket, Math.max(perStream.get(bucket) ?? 0, write.ttl));
    buckets.set(streamId, perStream);
  };

  for (const event of events) {
    const p = event.payload;
    switch (p.type) {
      case 'ChatMessageSent': {
        // The id's time, not occurredAt, places the row (bucket, minute, expiry): the id is what
        // readers and deletions locate it by, and the two can differ by the id generator's ticks.
        const sentAt = messageTime(p.messageId);
        const ttl = ttlFrom(sentAt);
        if (ttl <= 0) break;
        addWrite(event.streamId, bucketOf(sentAt), {
          kind: 'insert',
          messageId: p.messageId,
          userId: p.userId,
          username: p.username,
          badges: p.badges,
          content: p.content,
          color: p.color,
          at: event.occurredAt * 1000,
          ttl,
        });
        const minute = minuteOf(sentAt);
        const key = `${event.streamId}\u0000${minute}`;
        const m = minutes.get(key);
        if (m) {
          m.ttl = Math.max(m.ttl, ttl);
          m.sent.push({ messageId: p.messageId, userId: p.userId });
        } else {
          minutes.set(key, {
            streamId: event.streamId,
            minute,
            ttl,
            sent: [{ messageId: p.messageId, userId: p.userId }],
          });
        }
        break;
      }
      case 'ChatMessageDeleted': {
        const sentAt = messageTime(p.messageId);
        const ttl = ttlFrom(sentAt);
        if (ttl <= 0) break;
        // Stamped after the message itself, even if the moderator's clock was behind the sender's
        // gateway: a deletion must never lose to the row it deletes.
        const at = Math.max(event.occurredAt * 1000, sentAt * 1000 + 1);
        addWrite(event.streamId, bucketOf(sentAt), {
          kind: 'delete',
          messageId: p.messageId,
          actorId: p.actorId,
          at,
          ttl,
        });
        break;
      }
      case 'UserTimedOut':
      case 'UserBanned':
      case 'UserUnbanned':
      case 'ModeratorAdded':
      case 'ModeratorRemoved': {
        const list = moderation.get(event.streamId) ?? [];
        list.push(...moderationEffects(event));
        moderation.set(event.streamId, list);
        break;
      }
      default: {
        const _exhaustive: never = p;
        return _exhaustive;
      }
    }
  }

  return {
    messages: [...partitions.values()].flatMap((p) =>
      chunk(p.writes, limits).map((writes) => ({ streamId: p.streamId, bucket: p.bucket, writes })),
    ),
    buckets: [...buckets].map(([streamId, m]) => ({
      streamId,
      buckets: [...m].map(([bucket, ttl]) => ({ bucket, ttl })),
    })),
    moderation: [...moderation].map(([streamId, effects]) => ({ streamId, effects })),
    minutes: [...minutes.values()],
  };
}

function messageTime(messageId: string): number {
  if (!isTimeUuid(messageId))
    throw new PoisonRecordError(`message id ${messageId} is not a time-based UUID`, 'invalid');
  return timeOfTimeUuid(messageId);
}

/** An estimate of a write's size in a batch: its text plus a fixed allowance for keys and cell headers. */
export function writeBytes(w: MessageWrite): number {
  const text =
    w.kind === 'insert'
      ? Buffer.byteLength(w.content) +
        Buffer.byteLength(w.username) +
        Buffer.byteLength(w.userId) +
        w.badges.join('').length +
        7
      : Buffer.byteLength(w.actorId);
  return text + ROW_OVERHEAD_BYTES;
}

/** Splits one partition's writes, in order, into batches under both caps; a row over the byte budget goes alone. */
export function chunk(writes: MessageWrite[], limits: Pick<BatchLimits, 'maxRows' | 'maxBytes'>): MessageWrite[][] {
  const out: MessageWrite[][] = [];
  let current: MessageWrite[] = [];
  let bytes = 0;
  for (const w of writes) {
    const size = writeBytes(w);
    if (current.length && (current.length >= limits.maxRows || bytes + size > limits.maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(w);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}
