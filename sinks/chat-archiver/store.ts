import type { Cassandra, Statement } from '../../platform/cassandra.ts';
import type { ModerationColumn } from '../../domain/chat/moderation.ts';
import { eachLimit, mapLimit } from '../../platform/concurrency.ts';
import { bucketOf } from '../../domain/chat/schema.ts';
import { dayOf } from '../../domain/chat/schema.ts';
import type { MessageWrite, MinuteWrite, WritePlan } from './plan.ts';
import { MinuteTallies } from './tally.ts';

/**
 * The archiver's thin Cassandra shell: runs a WritePlan. Every statement is idempotent (same
 * cells, same write times), so the driver may retry it and the consumer may redeliver it.
 *
 * Order: messages, then the bucket index and moderation cells, then the per-minute stats, which
 * count the rows just written (tally.ts). A crash anywhere leaves the offset uncommitted and the
 * whole chunk is written again.
 */
export class ChatArchiveWriter {
  private readonly q: ReturnType<typeof queries>;
  private readonly tallies: MinuteTallies;

  /** `fresh`: the keyspace was made empty for this writer, its only writer (WriterOptions). */
  constructor(
    private readonly db: Cassandra,
    keyspace: string,
    private readonly concurrency: number,
    opts: { fresh: boolean } = { fresh: false },
  ) {
    this.q = queries(keyspace);
    this.tallies = new MinuteTallies(undefined, { complete: opts.fresh });
  }

  async apply(plan: WritePlan): Promise<void> {
    await eachLimit(plan.messages, this.concurrency, (batch) =>
      this.db.unloggedBatch(
        'write messages',
        batch.writes.map((w) => this.messageStatement(batch.streamId, batch.bucket, w)),
        { idempotent: true },
      ),
    );
    await Promise.all([
      eachLimit(plan.buckets, this.concurrency, (s) =>
        this.db.unloggedBatch(
          'write bucket index',
          s.buckets.map((b) => ({ query: this.q.bucket, params: [s.streamId, b.bucket, b.ttl] })),
          { idempotent: true },
        ),
      ),
      eachLimit(plan.moderation, this.concurrency, (s) =>
        this.db.unloggedBatch(
          'write moderation',
          s.effects.map((fx) => ({
            query: this.q.moderation[fx.column],
            params: [
              fx.at,
              fx.column === 'timeout_until' ? new Date(fx.value as number) : fx.value,
              s.streamId,
              fx.userId,
            ],
          })),
          { idempotent: true },
        ),
      ),
    ]);
    await this.writeStats(plan.minutes);
  }

  /** Forgets the per-minute tallies; the archiver calls it whenever its partitions are reassigned. */
  forgetTallies(): void {
    this.tallies.clear();
  }

  /**
   * Absolute per-minute values: each minute's tally (tally.ts), read back from chat_messages the
   * first time this process meets the minute, so a replay or a restart recounts, never adds.
   */
  private async writeStats(minutes: MinuteWrite[]): Promise<void> {
    const now = Date.now();
    const rows = await mapLimit(minutes, this.concurrency, async (m) => {
      const t =
        this.tallies.add(m, now) ??
        this.tallies.seed(m, this.tallies.unseen(m) ? m.sent : await this.minuteRows(m), now);
      return { streamId: m.streamId, minute: m.minute, ttl: m.ttl, messages: t.ids.size, chatters: t.users.size };
    });
    this.tallies.evict(now);
    const byPartition = new Map<string, Statement[]>();
    for (const r of rows) {
      if (!r.messages) continue;
      const key = `${r.streamId}\u0000${dayOf(r.minute)}`;
      const list = byPartition.get(key) ?? [];
      list.push({
        query: this.q.stats,
        params: [r.streamId, dayOf(r.minute), new Date(r.minute), r.messages, r.chatters, r.ttl],
      });
      byPartition.set(key, list);
    }
    await eachLimit([...byPartition.values()], this.concurrency, (statements) =>
      this.db.unloggedBatch('write stats', statements, { idempotent: true }),
    );
  }

  /** Every message of a minute with its sender (every page: a busy minute holds thousands). */
  private async minuteRows(m: MinuteWrite): Promise<Array<{ messageId: string; userId: string }>> {
    const found = await this.db.scan('read minute', this.q.minuteRows, [
      m.streamId,
      bucketOf(m.minute),
      new Date(m.minute),
      new Date(m.minute + 59_999),
    ]);
    // A row only a deletion has reached (its message not yet written) has no sender: not counted yet.
    return found
      .filter((r) => typeof r.user_id === 'string')
      .map((r) => ({ messageId: r.message_id as string, userId: r.user_id as string }));
  }

  private messageStatement(streamId: string, bucket: number, w: MessageWrite): Statement {
    switch (w.kind) {
      case 'insert':
        return {
          query: this.q.insertMessage,
          params: [streamId, bucket, w.messageId, w.userId, w.username, w.badges, w.content, w.color, w.ttl, w.at],
        };
      case 'delete':
        return { query: this.q.deleteMessage, params: [w.ttl, w.at, w.actorId, streamId, bucket, w.messageId] };
      default: {
        const _exhaustive: never = w;
        return _exhaustive;
      }
    }
  }
}

function queries(ks: string) {
  const moderation = (column: ModerationColumn): string =>
    `UPDATE ${ks}.chat_moderation USING TIMESTAMP ? SET ${column} = ? WHERE stream_id = ? AND user_id = ?`;
  return {
    insertMessage: `INSERT INTO ${ks}.chat_messages (stream_id, bucket, message_id, user_id, username, badges, content, color)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?`,
    deleteMessage: `UPDATE ${ks}.chat_messages USING TTL ? AND TIMESTAMP ? SET content = null, deleted_by = ?
      WHERE stream_id = ? AND bucket = ? AND message_id = ?`,
    bucket: `INSERT INTO ${ks}.chat_buckets (stream_id, bucket) VALUES (?, ?) USING TTL ?`,
    moderation: {
      banned: moderation('banned'),
      timeout_until: moderation('timeout_until'),
      moderator: moderation('moderator'),
    } satisfies Record<ModerationColumn, string>,
    minuteRows: `SELECT message_id, user_id FROM ${ks}.chat_messages
      WHERE stream_id = ? AND bucket = ? AND message_id >= minTimeuuid(?) AND message_id <= maxTimeuuid(?)`,
    stats: `INSERT INTO ${ks}.chat_stats_by_minute (stream_id, day, minute, messages, chatters) VALUES (?, ?, ?, ?, ?)
      USING TTL ?`,
  };
}
