import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HttpReply, Route } from '../../platform/http/server.ts';
import type { Authenticator } from '../../platform/auth/tokens.ts';
import type { Logger } from '../../platform/logger.ts';
import { ValidationError, parseOrReject } from '../../platform/validation.ts';
import type { VodDeleted } from '../../schemas/generated/events.ts';
import type { MediaCatalog } from '../../domain/media/catalog.ts';
import { VideoError } from '../../domain/media/video-errors.ts';
import {
  decideVideoDeletion,
  decodeVideoCursor,
  encodeVideoCursor,
  pageOfVideos,
  videoOf,
  type Video,
} from '../../domain/media/videos.ts';
import type { StreamRegistry } from '../../domain/stream/registry.ts';
import type { StreamArchive } from './archive.ts';
import { videoResponse, videosResponse, type Links } from './protocol.ts';

/**
 * The video library (issue #26), built from what the API already folds:
 *
 *   GET    /api/v1/users/:id/videos?cursor=&limit=   a streamer's videos, newest first
 *   GET    /api/v1/videos/:id                        one video (its id is the stream's)
 *   DELETE /api/v1/videos/:id                        (the owner's bearer) -> VodDeleted on live.vod.deletions
 *
 * The list is the streamer's ended streams in this instance's registry (every one up to the ended
 * cache's size, the latest ones beyond it); one video is also found, like playback, in the
 * discovery index once its stream left the registry. A deletion answers 204 once this instance
 * has applied it, so the caller's next read no longer shows the video.
 */
export interface VideoRouteDeps {
  auth: Authenticator;
  registry: StreamRegistry;
  archive: StreamArchive;
  media: MediaCatalog;
  links: Links;
  publish: (event: VodDeleted) => Promise<void>;
  readYourWritesMs: number;
  log: Logger;
}

const ok = (body: unknown, status = 200): HttpReply => ({ status, body, headers: { 'cache-control': 'no-store' } });

const pageQuery = z.strictObject({
  cursor: z.string().min(1).max(400).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'limit must be a whole number')
    .transform(Number)
    .pipe(z.number().min(1, 'limit must be at least 1').max(100, 'limit must be at most 100'))
    .default(20),
});

function parsePage(query: URLSearchParams) {
  if (new Set(query.keys()).size !== [...query.keys()].length)
    throw new ValidationError({ '(query)': 'a parameter is given more than once' });
  const q = parseOrReject(pageQuery, Object.fromEntries(query), '(query)');
  const after = q.cursor === undefined ? null : decodeVideoCursor(q.cursor);
  if (q.cursor !== undefined && !after) throw new ValidationError({ cursor: 'is not a cursor this API issued' });
  return { after, limit: q.limit };
}

export function videoRoutes(d: VideoRouteDeps): Route[] {
  const peakOf = (id: string) => d.registry.viewerStats(id)?.peakViewers ?? 0;

  /** The video, from the registry or (a stream that left it) the discovery index. */
  const find = async (id: string): Promise<Video | undefined> => {
    const media = d.media.get(id);
    if (!media?.vod) return undefined;
    const held = d.registry.get(id);
    if (held) return videoOf(held, media, peakOf(id));
    const old = await d.archive.ended(id);
    return old && videoOf(old.stream, media, old.counts.peakViewers);
  };

  return [
    {
      method: 'get',
      path: '/api/v1/users/:id/videos',
      handle: async (req) => {
        await d.auth.optional(req.headers.authorization);
        const { after, limit } = parsePage(req.query);
        const videos = d.registry
          .endedStreamsOf(req.params.id!)
          .flatMap((s) => videoOf(s, d.media.get(s.streamId), peakOf(s.streamId)) ?? []);
        const page = pageOfVideos(videos, after, limit);
        return ok(videosResponse(page.videos, page.next && encodeVideoCursor(page.next), d.links));
      },
    },
    {
      method: 'get',
      path: '/api/v1/videos/:id',
      handle: async (req) => {
        await d.auth.optional(req.headers.authorization);
        const id = req.params.id!;
        const video = await find(id);
        if (!video) throw new VideoError('video_not_found', `no video ${id}`);
        return ok(videoResponse(video, d.links));
      },
    },
    {
      method: 'del',
      path: '/api/v1/videos/:id',
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const id = req.params.id!;
        const event = decideVideoDeletion(id, await find(id), who.userId, { eventId: randomUUID(), now: Date.now() });
        const applied = d.media.whenApplied(event.eventId, d.readYourWritesMs);
        await d.publish(event);
        if (!(await applied))
          d.log.warn(
            { videoId: id, waitedMs: d.readYourWritesMs },
            'own media catalog has not applied the deletion yet',
          );
        return { status: 204, headers: { 'cache-control': 'no-store' } };
      },
    },
  ];
}
