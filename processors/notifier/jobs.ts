import type { Cassandra, Replication, Row } from '../../platform/cassandra.ts';
import type { GoLive } from '../../domain/notifications/fanout.ts';

/**
 * Large fan-outs in progress, so a crash loses none. The notifier owns this table.
 *
 *   fanout_jobs  one row per large go-live (job id = stream@start), in one partition (a handful of
 *                large fan-outs run at any time): where it has got to (`cursor`, the last
 *                follower whose notification Kafka acknowledged) and who holds it (`owner` until
 *                `lease_until`). Finished jobs stay, marked done, for a week, so a redelivered
 *                go-live does not start its fan-out again.
 *
 * Every write is a lightweight transaction: a job is created once (IF NOT EXISTS), claimed only
 * when its lease has run out, and advanced or finished only by its owner. A notifier that
 * crashed mid fan-out leaves its lease to expire; any instance then claims the job and goes on
 * from the cursor. What was published after the cursor (the cursor is recorded about once a
 * second, not after every page) is sent again; its notification ids are the same, so the sink
 * writes each once.
 */
const SHARD = 0;

export interface FanoutJob extends GoLive {
  jobId: string;
  cursor: string | null;
  sent: number;
  done: boolean;
  owner: string;
  leaseUntil: number;
}

export function jobsTables(keyspace: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${keyspace}.fanout_jobs (
       shard int, job_id text,
       stream_id text, started_at timestamp, streamer_id text, streamer_name text, title text,
       cursor text, sent bigint, done boolean, owner text, lease_until timestamp,
       PRIMARY KEY (shard, job_id)
     ) WITH default_time_to_live = ${7 * 86_400}`,
  ];
}

export class FanoutJobs {
  private readonly q: ReturnType<typeof queries>;

  constructor(
    private readonly db: Cassandra,
    private readonly keyspace: string,
  ) {
    this.q = queries(keyspace);
  }

  async ensureSchema(replication: Replication): Promise<void> {
    await this.db.ensureKeyspace(this.keyspace, replication, jobsTables(this.keyspace));
  }

  /** Creates the job held by `owner`; false when it exists already (running, or done). */
  async create(jobId: string, g: GoLive, cursor: string, owner: string, leaseUntil: number): Promise<boolean> {
    return this.applied(this.q.create, [
      SHARD,
      jobId,
      g.streamId,
      new Date(g.startedAt),
      g.streamerId,
      g.streamerName,
      g.title,
      cursor,
      owner,
      new Date(leaseUntil),
    ]);
  }

  async unfinished(): Promise<FanoutJob[]> {
    const rows = await this.db.execute('read fan-out jobs', this.q.all, [SHARD], { idempotent: true });
    return rows.map(toJob).filter((j) => !j.done);
  }

  /** Takes over a job whose lease ran out before `now`. */
  claim(jobId: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    return this.applied(this.q.claim, [owner, new Date(leaseUntil), SHARD, jobId, new Date(now)]);
  }

  /** Records progress and renews the lease; false when `owner` no longer holds the job. */
  advance(jobId: string, owner: string, cursor: string | null, sent: number, leaseUntil: number): Promise<boolean> {
    return this.applied(this.q.advance, [cursor, sent, new Date(leaseUntil), SHARD, jobId, owner]);
  }

  finish(jobId: string, owner: string, sent: number): Promise<boolean> {
    return this.applied(this.q.finish, [sent, SHARD, jobId, owner]);
  }

  private async applied(query: string, params: unknown[]): Promise<boolean> {
    const rows = await this.db.execute('fan-out job', query, params);
    return rows[0]?.['[applied]'] === true;
  }
}

function toJob(r: Row): FanoutJob {
  return {
    jobId: r.job_id as string,
    streamId: r.stream_id as string,
    startedAt: (r.started_at as Date).getTime(),
    streamerId: r.streamer_id as string,
    streamerName: r.streamer_name as string,
    title: r.title as string,
    cursor: (r.cursor as string | null) ?? null,
    sent: Number(r.sent ?? 0),
    done: r.done === true,
    owner: (r.owner as string | null) ?? '',
    leaseUntil: (r.lease_until as Date | null)?.getTime() ?? 0,
  };
}

function queries(ks: string) {
  const t = `${ks}.fanout_jobs`;
  return {
    create: `INSERT INTO ${t} (shard, job_id, stream_id, started_at, streamer_id, streamer_name, title, cursor, sent, done, owner, lease_until)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, false, ?, ?) IF NOT EXISTS`,
    all: `SELECT job_id, stream_id, started_at, streamer_id, streamer_name, title, cursor, sent, done, owner, lease_until
      FROM ${t} WHERE shard = ?`,
    claim: `UPDATE ${t} SET owner = ?, lease_until = ? WHERE shard = ? AND job_id = ? IF done = false AND lease_until < ?`,
    advance: `UPDATE ${t} SET cursor = ?, sent = ?, lease_until = ? WHERE shard = ? AND job_id = ? IF owner = ?`,
    finish: `UPDATE ${t} SET done = true, sent = ? WHERE shard = ? AND job_id = ? IF owner = ?`,
  };
}
