import type { Cassandra, Row } from '../../platform/cassandra.ts';

/**
 * Reads of the follower graph, for the API and the notifier. Pages are in user id order and
 * continue after the last id of the previous page (`after`), so a page never skips or repeats an
 * edge that exists throughout the paging.
 */
export interface Edge {
  userId: string;
  followedAt: number;
}

export interface EdgePage {
  edges: Edge[];
  /** The last id of this page when more may follow; null at the end. */
  next: string | null;
}

export interface FollowCounts {
  followers: number;
  following: number;
}

export class FollowGraph {
  private readonly q: ReturnType<typeof queries>;

  constructor(
    private readonly db: Cassandra,
    keyspace: string,
  ) {
    this.q = queries(keyspace);
  }

  followers(streamerId: string, after: string | null, limit: number): Promise<EdgePage> {
    return this.page(this.q.followersFirst, this.q.followersAfter, 'follower_id', streamerId, after, limit);
  }

  following(userId: string, after: string | null, limit: number): Promise<EdgePage> {
    return this.page(this.q.followingFirst, this.q.followingAfter, 'streamer_id', userId, after, limit);
  }

  /** Just the follower ids of a page: the notifier's fan-out read, no dates. */
  async followerIds(streamerId: string, after: string | null, limit: number): Promise<string[]> {
    const rows = after
      ? await this.read(this.q.followerIdsAfter, [streamerId, after, limit])
      : await this.read(this.q.followerIdsFirst, [streamerId, limit]);
    return rows.map((r) => r.follower_id as string);
  }

  async isFollowing(followerId: string, streamerId: string): Promise<boolean> {
    return (await this.read(this.q.edge, [followerId, streamerId])).length > 0;
  }

  async counts(userId: string): Promise<FollowCounts> {
    const row = (await this.read(this.q.counts, [userId]))[0];
    return { followers: Number(row?.followers ?? 0), following: Number(row?.following ?? 0) };
  }

  private async page(
    first: string,
    after: string,
    column: string,
    id: string,
    cursor: string | null,
    limit: number,
  ): Promise<EdgePage> {
    const rows = cursor ? await this.read(after, [id, cursor, limit + 1]) : await this.read(first, [id, limit + 1]);
    const edges = rows
      .slice(0, limit)
      .map((r) => ({ userId: r[column] as string, followedAt: (r.followed_at as Date).getTime() }));
    return { edges, next: rows.length > limit ? edges[edges.length - 1]!.userId : null };
  }

  private read(query: string, params: unknown[]): Promise<Row[]> {
    return this.db.execute('read follow graph', query, params, { idempotent: true });
  }
}

function queries(ks: string) {
  const followers = `FROM ${ks}.followers_by_streamer WHERE streamer_id = ?`;
  const following = `FROM ${ks}.following_by_user WHERE user_id = ?`;
  return {
    followersFirst: `SELECT follower_id, followed_at ${followers} LIMIT ?`,
    followersAfter: `SELECT follower_id, followed_at ${followers} AND follower_id > ? LIMIT ?`,
    followerIdsFirst: `SELECT follower_id ${followers} LIMIT ?`,
    followerIdsAfter: `SELECT follower_id ${followers} AND follower_id > ? LIMIT ?`,
    followingFirst: `SELECT streamer_id, followed_at ${following} LIMIT ?`,
    followingAfter: `SELECT streamer_id, followed_at ${following} AND streamer_id > ? LIMIT ?`,
    edge: `SELECT streamer_id ${following} AND streamer_id = ?`,
    counts: `SELECT followers, following FROM ${ks}.follow_counts WHERE user_id = ?`,
  };
}
