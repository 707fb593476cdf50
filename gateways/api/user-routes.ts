import { z } from 'zod';
import type { HttpReply, Route } from '../../platform/http/server.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Component } from '../../platform/service.ts';
import { isTimeUuid } from '../../platform/timeuuid.ts';
import { ValidationError, parseOrReject } from '../../platform/validation.ts';
import { FollowError } from '../../domain/follows/errors.ts';
import { FollowCommands } from '../../domain/follows/follow-commands.ts';
import type { StreamRecord } from '../../domain/stream/evolve.ts';
import type { StreamRegistry } from '../../domain/stream/registry.ts';
import type { FollowGraph } from '../../domain/follows/graph.ts';
import type { Inbox, Notification } from '../../domain/notifications/inbox.ts';
import type { Authenticator } from '../../platform/auth/tokens.ts';

/**
 * Follows and notifications on the HTTP API:
 *
 *   POST   /api/v1/users/:id/follow              follow (bearer)             -> Followed on live.user.follows
 *   DELETE /api/v1/users/:id/follow              unfollow (bearer)           -> Unfollowed
 *   GET    /api/v1/users/:id                     follower and following counts, live stream if any
 *   GET    /api/v1/users/:id/followers?cursor=&limit=
 *   GET    /api/v1/me/following?cursor=&limit=   (bearer) with who of them is live now
 *   GET    /api/v1/me/notifications?cursor=&limit=  (bearer) newest first
 *   POST   /api/v1/me/notifications/read {"ids": [...]}  (bearer)
 *
 * A known user is one the stream registry has seen create a stream (see decide.ts). The graph
 * and the inbox are read from Cassandra, where the sinks put them; a follow shows there once the
 * follows sink has applied it (within a second or so), and this instance refuses a second follow
 * of the same pair before that.
 */
export interface UserApiDeps {
  bus: EventBus;
  auth: Authenticator;
  registry: StreamRegistry;
  graph: FollowGraph;
  inbox: Inbox;
  /** How long this instance remembers its own follow decisions (until the sink has applied them). */
  pendingMs: number;
}

const ok = (body: unknown, status = 200): HttpReply => ({ status, body, headers: { 'cache-control': 'no-store' } });
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const pageQuery = (max: number) =>
  z
    .object({
      cursor: z.string().min(1).max(400).optional(),
      limit: z.coerce.number().int().min(1).max(max).default(Math.min(20, max)),
    })
    .strict();

function parsePage(query: URLSearchParams, max: number): { after: string | null; limit: number } {
  const q = parseOrReject(pageQuery(max), Object.fromEntries(query), '(query)');
  if (q.cursor === undefined) return { after: null, limit: q.limit };
  const after = Buffer.from(q.cursor, 'base64url').toString('utf8');
  if (!after || Buffer.from(after, 'utf8').toString('base64url') !== q.cursor)
    throw new ValidationError({ cursor: 'is not a cursor this API issued' });
  return { after, limit: q.limit };
}

const cursorOf = (last: string | null): string | null =>
  last === null ? null : Buffer.from(last).toString('base64url');

const readBody = z
  .object({ ids: z.array(z.string().refine(isTimeUuid, 'is not a notification id')).min(1).max(100) })
  .strict();

export function liveStreamOf(registry: StreamRegistry, userId: string): StreamRecord | undefined {
  return registry.openStreamsOf(userId).find((s) => s.status === 'live');
}

function liveSummary(registry: StreamRegistry, userId: string) {
  const s = liveStreamOf(registry, userId);
  return s
    ? {
        stream_id: s.streamId,
        title: s.title,
        category: s.category,
        started_at: iso(s.startedAt),
        viewer_count: registry.viewerCount(s.streamId),
      }
    : null;
}

const usernameOf = (registry: StreamRegistry, userId: string): string | null => registry.streamerName(userId) ?? null;

function notificationBody(n: Notification) {
  return {
    notification_id: n.notificationId,
    kind: n.kind.toLowerCase(),
    stream_id: n.streamId,
    streamer: { user_id: n.streamerId, username: n.streamerName },
    title: n.title,
    created_at: iso(n.createdAt),
    read: n.read,
  };
}

export function userApi(d: UserApiDeps): { routes: Route[]; components: Component[] } {
  const producer = d.bus.producer();
  const commands = new FollowCommands({
    isKnownUser: (id) => d.registry.streamerName(id) !== undefined,
    isFollowing: (follower, streamer) => d.graph.isFollowing(follower, streamer),
    publish: (events) => producer.publish(d.bus.topic('userFollows'), events),
    clock: Date.now,
    pendingMs: d.pendingMs,
  });
  const routes: Route[] = [
    {
      method: 'post',
      path: '/api/v1/users/:id/follow',
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const event = await commands.follow(who.userId, req.params.id!);
        return ok({
          following: true,
          user: { user_id: event.streamerId, username: usernameOf(d.registry, event.streamerId) },
          followed_at: iso(event.occurredAt),
        });
      },
    },
    {
      method: 'del',
      path: '/api/v1/users/:id/follow',
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const event = await commands.unfollow(who.userId, req.params.id!);
        return ok({
          following: false,
          user: { user_id: event.streamerId, username: usernameOf(d.registry, event.streamerId) },
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/users/:id',
      handle: async (req) => {
        const me = await d.auth.optional(req.headers.authorization);
        const id = req.params.id!;
        const counts = await d.graph.counts(id);
        const username = usernameOf(d.registry, id);
        if (username === null && counts.followers === 0 && counts.following === 0)
          throw new FollowError('user_not_found', `no user ${id}`);
        return ok({
          user_id: id,
          username,
          followers: counts.followers,
          following: counts.following,
          live: liveSummary(d.registry, id),
          // Whether the caller follows this user; null for an anonymous caller.
          is_following: me ? await d.graph.isFollowing(me.userId, id) : null,
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/users/:id/followers',
      handle: async (req) => {
        await d.auth.optional(req.headers.authorization);
        const { after, limit } = parsePage(req.query, 100);
        const page = await d.graph.followers(req.params.id!, after, limit);
        return ok({
          followers: page.edges.map((e) => ({ user_id: e.userId, followed_at: iso(e.followedAt) })),
          next_cursor: cursorOf(page.next),
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/me/following',
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const { after, limit } = parsePage(req.query, 100);
        const page = await d.graph.following(who.userId, after, limit);
        const following = page.edges.map((e) => ({
          user_id: e.userId,
          username: usernameOf(d.registry, e.userId),
          followed_at: iso(e.followedAt),
          live: liveSummary(d.registry, e.userId),
        }));
        return ok({
          following,
          live_now: following.filter((f) => f.live !== null).map((f) => f.user_id),
          next_cursor: cursorOf(page.next),
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/me/notifications',
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const { after, limit } = parsePage(req.query, 100);
        if (after !== null && !isTimeUuid(after))
          throw new ValidationError({ cursor: 'is not a cursor this API issued' });
        const page = await d.inbox.page(who.userId, after, limit);
        return ok({ notifications: page.notifications.map(notificationBody), next_cursor: cursorOf(page.next) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/me/notifications/read',
      body: true,
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const { ids } = parseOrReject(readBody, req.body ?? {});
        return ok({ marked: await d.inbox.markRead(who.userId, [...new Set(ids)]) });
      },
    },
  ];
  return {
    routes,
    components: [
      {
        name: 'follows-producer',
        start: async () => {
          await d.bus.init(['userFollows']);
          await producer.connect();
        },
        stop: () => producer.disconnect(),
      },
    ],
  };
}
