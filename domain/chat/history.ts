import type { Cassandra, Row } from '../../platform/cassandra.ts';
import { timeOfTimeUuid } from '../../platform/timeuuid.ts';
import type { ModerationColumn, ModerationEffect } from './moderation.ts';
import { bucketOf, dayOf } from './schema.ts';

/**
 * Reads of the chat archive, for gateways: pages of history through the hour buckets a stream
 * actually has, and a stream's moderation cells with their write times. Deleted messages are
 * skipped. Results are oldest first, as a chat window shows them.
 */
export interface ArchivedMessage {
  messageId: string;
  userId: string;
  username: string;
  badges: string[];
  content: string;
  color: string | null;
  /** Epoch ms, from the message id. */
  sentAt: number;
}

const COLUMNS = 'message_id, user_id, username, badges, content, color, deleted_by';

export interface ChatHistoryOptions {
  /** Rows per read of a stream's moderation cells (a page; every page is read). */
  moderationPageRows?: number;
}

export class ChatHistoryReader {
  private readonly q: ReturnType<typeof queries>;
  private readonly moderationPageRows: number;

  constructor(
    private readonly db: Cassandra,
    keyspace: string,
    opts: ChatHistoryOptions = {},
  ) {
    this.q = queries(keyspace);
    this.moderationPageRows = opts.moderationPageRows ?? 1000;
    if (!Number.isInteger(this.moderationPageRows) || this.moderationPageRows < 1)
      throw new Error(`moderationPageRows must be a positive integer, not ${this.moderationPageRows}`);
  }

  /** The newest `limit` messages, or the newest `limit` older than `beforeId`. */
  async before(streamId: string, beforeId: string | undefined, limit: number): Promise<ArchivedMessage[]> {
    // A gateway's clock may run a little ahead of this one: start one bucket up.
    const top = beforeId ? bucketOf(timeOfTimeUuid(beforeId)) : bucketOf(Date.now()) + 1;
    const buckets = await this.buckets(streamId, this.q.bucketsDown, top);
    const out: ArchivedMessage[] = [];
    for (const bucket of buckets) {
      let cursor = beforeId;
      while (out.length < limit) {
        const want = limit - out.length;
        const rows = cursor
          ? await this.read(this.q.olderThan, [streamId, bucket, cursor, want])
          : await this.read(this.q.newest, [streamId, bucket, want]);
        out.push(...rows.map(toMessage).filter((m): m is ArchivedMessage => m !== undefined));
        if (rows.length < want) break;
        cursor = rows[rows.length - 1]!.message_id as string;
      }
      if (out.length >= limit) break;
    }
    return out.slice(0, limit).reverse();
  }

  /** Up to `limit` messages after `sinceId`, oldest first; `complete` is false when more remain. */
  async after(
    streamId: string,
    sinceId: string,
    limit: number,
  ): Promise<{ messages: ArchivedMessage[]; complete: boolean }> {
    const buckets = (await this.buckets(streamId, this.q.bucketsUp, bucketOf(timeOfTimeUuid(sinceId)))).reverse();
    const out: ArchivedMessage[] = [];
    for (const bucket of buckets) {
      let cursor = sinceId;
      for (;;) {
        const want = limit + 1 - out.length;
        const rows = await this.read(this.q.newerThan, [streamId, bucket, cursor, want]);
        out.push(...rows.map(toMessage).filter((m): m is ArchivedMessage => m !== undefined));
        if (out.length > limit) return { messages: out.slice(0, limit), complete: false };
        if (rows.length < want) break;
        cursor = rows[rows.length - 1]!.message_id as string;
      }
    }
    return { messages: out, complete: true };
  }

  /**
   * A stream's moderation cells, every one of them, as effects stamped with their Cassandra write
   * times. The stream is one partition with a row per user: it is read in pages of
   * `moderationPageRows`, each starting after the last user id of the one before (the clustering
   * key), until a page comes back short. A single read would stop at the driver's page (5,000
   * rows): every ban past it would silently stop applying after a restart, and a moderator could
   * push real bans off it by banning throwaway accounts.
   */
  async moderation(streamId: string): Promise<ModerationEffect[]> {
    const out: ModerationEffect[] = [];
    const limit = this.moderationPageRows;
    for (let after: string | undefined; ;) {
      const rows = after
        ? await this.read(this.q.moderationAfter, [streamId, after, limit])
        : await this.read(this.q.moderation, [streamId, limit]);
      for (const r of rows) {
        const userId = r.user_id as string;
        const cell = (column: ModerationColumn, value: unknown, at: unknown): void => {
          if (value === null || value === undefined || typeof at !== 'number') return;
          out.push({
            streamId,
            userId,
            column,
            value: value instanceof Date ? value.getTime() : (value as boolean),
            at,
          });
        };
        cell('banned', r.banned, r.banned_at);
        cell('timeout_until', r.timeout_until, r.timeout_at);
        cell('moderator', r.moderator, r.moderator_at);
      }
      if (rows.length < limit) return out;
      after = rows[rows.length - 1]!.user_id as string;
    }
  }

  private async buckets(streamId: string, query: string, from: number): Promise<number[]> {
    return (await this.read(query, [streamId, from])).map((r) => r.bucket as number);
  }

  private read(query: string, params: unknown[]): Promise<Row[]> {
    return this.db.execute('read chat history', query, params, { idempotent: true });
  }
}

function toMessage(r: Row): ArchivedMessage | undefined {
  if (typeof r.content !== 'string' || r.deleted_by || typeof r.user_id !== 'string') return undefined;
  const messageId = r.message_id as string;
  return {
    messageId,
    userId: r.user_id,
    username: r.username as string,
    badges: (r.badges as string[] | null) ?? [],
    content: r.content,
    color: (r.color as string | null) ?? null,
    sentAt: timeOfTimeUuid(messageId),
  };
}

function queries(ks: string) {
  const partition = `FROM ${ks}.chat_messages WHERE stream_id = ? AND bucket = ?`;
  const moderationCells = `SELECT user_id, banned, WRITETIME(banned) AS banned_at, timeout_until,
    WRITETIME(timeout_until) AS timeout_at, moderator, WRITETIME(moderator) AS moderator_at FROM ${ks}.chat_moderation`;
  return {
    // 720 hour buckets is the whole 30-day retention.
    bucketsDown: `SELECT bucket FROM ${ks}.chat_buckets WHERE stream_id = ? AND bucket <= ? LIMIT 720`,
    bucketsUp: `SELECT bucket FROM ${ks}.chat_buckets WHERE stream_id = ? AND bucket >= ? LIMIT 720`,
    newest: `SELECT ${COLUMNS} ${partition} LIMIT ?`,
    olderThan: `SELECT ${COLUMNS} ${partition} AND message_id < ? LIMIT ?`,
    newerThan: `SELECT ${COLUMNS} ${partition} AND message_id > ? ORDER BY message_id ASC LIMIT ?`,
    moderation: `${moderationCells} WHERE stream_id = ? LIMIT ?`,
    moderationAfter: `${moderationCells} WHERE stream_id = ? AND user_id > ? LIMIT ?`,
  };
}

/** A minute of a stream's chat, from the archiver's per-minute stats (chat_stats_by_minute). */
export interface ChatMinute {
  minute: number;
  messages: number;
  chatters: number;
}

/** A stream's chat per minute since `sinceMs` (at most two days back), oldest first. */
export async function chatMinutes(
  db: Cassandra,
  keyspace: string,
  streamId: string,
  sinceMs: number,
): Promise<ChatMinute[]> {
  const now = Date.now();
  const days = [...new Set([dayOf(Math.max(sinceMs, now - 2 * 86_400_000)), dayOf(now)])];
  const out: ChatMinute[] = [];
  for (const day of days) {
    const rows = await db.execute(
      'read chat minutes',
      `SELECT minute, messages, chatters FROM ${keyspace}.chat_stats_by_minute WHERE stream_id = ? AND day = ? AND minute >= ?`,
      [streamId, day, new Date(sinceMs)],
      { idempotent: true },
    );
    for (const r of rows)
      out.push({
        minute: new Date(r.minute as string | number | Date).getTime(),
        messages: Number(r.messages),
        chatters: Number(r.chatters),
      });
  }
  return out.sort((a, b) => a.minute - b.minute);
}
