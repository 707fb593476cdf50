import type { Cassandra } from '../../platform/cassandra.ts';
import { mapLimit } from '../../platform/concurrency.ts';
import type { EdgeWrite } from './plan.ts';

/**
 * The follows sink's Cassandra shell. Edges first (both directions, each with the event's offset
 * as write time), then the counts of every user the chunk touched, recounted from the edge tables
 * and written as absolute values. A count carries the time it was read as its write time: when
 * two sink instances recount the same user (their follows arrive on different partitions), the
 * count read last wins, and it saw every edge the other saw.
 */
export class FollowGraphWriter {
  private readonly q: ReturnType<typeof queries>;

  constructor(
    private readonly db: Cassandra,
    keyspace: string,
    private readonly concurrency: number,
  ) {
    this.q = queries(keyspace);
  }

  async apply(edges: EdgeWrite[], users: string[]): Promise<void> {
    await mapLimit(edges, this.concurrency, (e) =>
      e.kind === 'follow'
        ? Promise.all([
            this.db.execute(
              'write follower',
              this.q.addFollower,
              [e.streamerId, e.followerId, new Date(e.at), e.writeTime],
              {
                idempotent: true,
              },
            ),
            this.db.execute(
              'write following',
              this.q.addFollowing,
              [e.followerId, e.streamerId, new Date(e.at), e.writeTime],
              {
                idempotent: true,
              },
            ),
          ])
        : Promise.all([
            this.db.execute('delete follower', this.q.removeFollower, [e.writeTime, e.streamerId, e.followerId], {
              idempotent: true,
            }),
            this.db.execute('delete following', this.q.removeFollowing, [e.writeTime, e.followerId, e.streamerId], {
              idempotent: true,
            }),
          ]),
    );
    await mapLimit(users, this.concurrency, (u) => this.recount(u));
  }

  async recount(userId: string): Promise<void> {
    const readAt = Date.now() * 1000;
    const [followers, following] = await Promise.all([
      this.db.execute('count followers', this.q.countFollowers, [userId], { idempotent: true }),
      this.db.execute('count following', this.q.countFollowing, [userId], { idempotent: true }),
    ]);
    await this.db.execute(
      'write counts',
      this.q.counts,
      [readAt, Number(followers[0]?.n ?? 0), Number(following[0]?.n ?? 0), userId],
      { idempotent: true },
    );
  }
}

function queries(ks: string) {
  return {
    addFollower: `INSERT INTO ${ks}.followers_by_streamer (streamer_id, follower_id, followed_at) VALUES (?, ?, ?) USING TIMESTAMP ?`,
    addFollowing: `INSERT INTO ${ks}.following_by_user (user_id, streamer_id, followed_at) VALUES (?, ?, ?) USING TIMESTAMP ?`,
    removeFollower: `DELETE FROM ${ks}.followers_by_streamer USING TIMESTAMP ? WHERE streamer_id = ? AND follower_id = ?`,
    removeFollowing: `DELETE FROM ${ks}.following_by_user USING TIMESTAMP ? WHERE user_id = ? AND streamer_id = ?`,
    countFollowers: `SELECT COUNT(*) AS n FROM ${ks}.followers_by_streamer WHERE streamer_id = ?`,
    countFollowing: `SELECT COUNT(*) AS n FROM ${ks}.following_by_user WHERE user_id = ?`,
    counts: `UPDATE ${ks}.follow_counts USING TIMESTAMP ? SET followers = ?, following = ? WHERE user_id = ?`,
  };
}
