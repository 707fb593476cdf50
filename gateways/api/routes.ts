import type { HttpReply, Route } from '../../platform/http/server.ts';
import { StreamError } from '../../domain/stream/errors.ts';
import type { StreamCommands } from '../../domain/stream/stream-commands.ts';
import { parseStartRequest, parseUpdateRequest } from '../../domain/stream/validation.ts';
import type { MediaCatalog } from '../../domain/media/catalog.ts';
import type { StreamRegistry } from '../../domain/stream/registry.ts';
import type { StreamArchive } from './archive.ts';
import type { DiscoverySearch } from '../../domain/discovery/search.ts';
import type { Authenticator } from '../../platform/auth/tokens.ts';
import { thumbnailUrl } from '../../domain/media/playback.ts';
import {
  categoriesResponse,
  parseCategoriesQuery,
  parseSearchQuery,
  playbackResponse,
  searchResponse,
  startedResponse,
  streamResponse,
  type Links,
} from './protocol.ts';

/**
 * The HTTP API's routes: authenticate, parse, call the service, shape the reply. Writes need a
 * bearer token; reads are public (a token, if sent, must still be valid). Authentication comes
 * before validation, so an anonymous caller learns nothing about the request rules.
 */
export interface RouteDeps {
  auth: Authenticator;
  commands: StreamCommands;
  registry: StreamRegistry;
  /** Ended streams the registry no longer holds. */
  archive: StreamArchive;
  discovery: DiscoverySearch;
  /** Ladders, thumbnails and VODs (live.media.segments, live.vod.recordings). */
  media: MediaCatalog;
  links: Links;
}

const ok = (body: unknown, status = 200): HttpReply => ({ status, body, headers: { 'cache-control': 'no-store' } });

export function apiRoutes(d: RouteDeps): Route[] {
  return [
    {
      method: 'post',
      path: '/api/v1/streams/start',
      body: true,
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const { stream, streamKey } = await d.commands.start(who, parseStartRequest(req.body));
        return ok(startedResponse(stream, streamKey, d.links), 201);
      },
    },
    {
      method: 'patch',
      path: '/api/v1/streams/:id',
      body: true,
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        return ok(streamResponse(await d.commands.update(who, req.params.id!, parseUpdateRequest(req.body))));
      },
    },
    {
      method: 'post',
      path: '/api/v1/streams/:id/end',
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        return ok(streamResponse(await d.commands.end(who, req.params.id!)));
      },
    },
    {
      method: 'get',
      path: '/api/v1/streams/search',
      handle: async (req) => {
        await d.auth.optional(req.headers.authorization);
        const { search, nextCursor } = parseSearchQuery(req.query);
        const page = await d.discovery.search(search);
        return ok(
          searchResponse(page, nextCursor(page), (doc) =>
            thumbnailUrl(
              d.registry.get(doc.stream_id) ?? d.archive.recordOf(doc),
              d.media.get(doc.stream_id),
              d.links.cdnBaseUrl,
            ),
          ),
        );
      },
    },
    {
      method: 'get',
      path: '/api/v1/streams/:id/playback',
      handle: async (req) => {
        await d.auth.optional(req.headers.authorization);
        const id = req.params.id!;
        const stream = d.registry.get(id);
        if (stream)
          return ok(
            playbackResponse(stream, d.registry.viewerCount(id), d.links, d.registry.viewerStats(id), d.media.get(id)),
          );
        const old = await d.archive.ended(id);
        if (!old) throw new StreamError('stream_not_found', `no stream ${id}`);
        return ok(playbackResponse(old.stream, old.counts.viewers, d.links, old.counts, d.media.get(id)));
      },
    },
    {
      method: 'get',
      path: '/api/v1/categories',
      handle: async (req) => {
        await d.auth.optional(req.headers.authorization);
        return ok(categoriesResponse(await d.discovery.categories(parseCategoriesQuery(req.query).limit)));
      },
    },
  ];
}
