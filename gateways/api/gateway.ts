import type { Elasticsearch } from '../../platform/elasticsearch/client.ts';
import { HttpServer } from '../../platform/http/server.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { StreamCommands } from '../../domain/stream/stream-commands.ts';
import { MediaCatalog } from '../../domain/media/catalog.ts';
import { MediaCatalogProjection } from '../../domain/media/projection.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { DiscoverySearch } from '../../domain/discovery/search.ts';
import { Authenticator, type TokenSettings } from '../../platform/auth/tokens.ts';
import type { PrometheusClient } from '../../platform/prometheus.ts';
import { dashboardRoutes } from './dashboard.ts';
import type { ChatMinute } from '../../domain/chat/history.ts';
import { errorReply } from './errors.ts';
import type { Links } from './protocol.ts';
import { apiRoutes } from './routes.ts';
import { StreamArchive } from './archive.ts';
import { limitWrites, type WriteLimits } from './rate-limits.ts';
import { userApi, type UserApiDeps } from './user-routes.ts';
import { videoRoutes } from './video-routes.ts';
import { devTokenRoutes, type DevTokenSettings } from './dev-token.ts';
import { webRoutes, type WebSettings } from './web.ts';
import { revocationRoutes } from './revoke-routes.ts';
import { RevocationProjection } from '../../domain/users/revocation-projection.ts';
import { RevokedTokens } from '../../domain/users/revocation.ts';

/**
 * Wires the API gateway from its clients; main.ts and the integration spec both build it here.
 * Start order: producer, registry (caught up with the topics), then the listener; runService
 * stops them in reverse, listener first.
 */
export interface ApiSettings {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** Unique to this process instance: every instance reads every partition. */
  registryGroupId: string;
  registryCatchUpMs: number;
  readYourWritesMs: number;
  /** Streams a streamer may hold not yet ended (default 10). */
  maxOpenStreams?: number;
  /** Per-caller budgets for writes (rate-limits.ts); each one left out takes its default. */
  writeLimits?: Partial<WriteLimits>;
  /** Ended streams the registry keeps in memory (default 10,000); older ones are read from the discovery index. */
  endedStreamsCached?: number;
  discoveryAlias: string;
  retryAfterS: number;
  token: TokenSettings;
  links: Links;
}

export interface ApiGateway {
  components: Component[];
  server: HttpServer;
  registry: StreamRegistry;
  healthy: () => boolean;
}

export function apiGateway(deps: {
  bus: EventBus;
  es: Elasticsearch;
  signingKey: Uint8Array;
  settings: ApiSettings;
  log: Logger;
  metrics: Metrics;
  /** Follows and notifications (user-routes.ts); without it those routes are not served. */
  users?: Pick<UserApiDeps, 'graph' | 'inbox' | 'pendingMs'>;
  /** The web page and its config (web.ts); without it nothing is served outside /api. */
  web?: WebSettings;
  /** Development sign-in (dev-token.ts); only for local use. */
  devSignIn?: DevTokenSettings;
  /** The operator dashboard's and stream health's source (dashboard.ts); without it they answer 503. */
  prometheus?: PrometheusClient;
  /** A stream's chat per minute, for stream health; without it, health has no chat figures. */
  chatMinutes?: (streamId: string, sinceMs: number) => Promise<ChatMinute[]>;
  onFatal?: (err: Error) => void;
}): ApiGateway {
  const { bus, settings: s, log } = deps;
  const registry = new StreamRegistry({
    ...(s.endedStreamsCached !== undefined && { endedCacheSize: s.endedStreamsCached }),
  });
  const projection = new StreamRegistryProjection(bus, registry, {
    groupId: s.registryGroupId,
    catchUpDeadlineMs: s.registryCatchUpMs,
    ...(deps.onFatal && { onFatal: deps.onFatal }),
  });
  const media = new MediaCatalog();
  const mediaProjection = new MediaCatalogProjection(bus, media, {
    // Unique per instance, like the registry's: the media catalog's group rides on its name.
    groupId: `${s.registryGroupId}.media`,
    ...(deps.onFatal && { onFatal: deps.onFatal }),
  });
  const archive = new StreamArchive(deps.es, s.discoveryAlias, (id) => Boolean(media.get(id)?.vod));
  const producer = bus.producer();
  const commands = new StreamCommands({
    registry,
    lookupEnded: async (id) => (await archive.ended(id))?.stream,
    publish: (events) => producer.publish(bus.topic('streamLifecycle'), events),
    readYourWritesMs: s.readYourWritesMs,
    ...(s.maxOpenStreams !== undefined && { maxOpenStreams: s.maxOpenStreams }),
    log,
  });
  // Per-user revocation: the API refuses a revoked user's old tokens, and is where revoking starts.
  const revoked = new RevokedTokens();
  const revocations = new RevocationProjection(bus, revoked, {
    groupId: `${s.registryGroupId}.revocations`,
    catchUpDeadlineMs: s.registryCatchUpMs,
    ...(deps.onFatal && { onFatal: deps.onFatal }),
  });
  const auth = new Authenticator(deps.signingKey, s.token, (userId, issuedAt) => revoked.isRevoked(userId, issuedAt));
  const users = deps.users && userApi({ bus, auth, registry, ...deps.users });
  const server = new HttpServer({
    name: 'api',
    host: s.host,
    port: s.port,
    maxBodyBytes: s.maxBodyBytes,
    // Every write, whoever serves it, within its caller's budgets.
    routes: limitWrites(
      [
        ...apiRoutes({
          auth,
          commands,
          registry,
          archive,
          discovery: new DiscoverySearch(deps.es, s.discoveryAlias),
          media,
          links: s.links,
        }),
        ...videoRoutes({
          auth,
          registry,
          archive,
          media,
          links: s.links,
          publish: (event) => producer.publish(bus.topic('vodDeletions'), [event]),
          readYourWritesMs: s.readYourWritesMs,
          log,
        }),
        ...(users?.routes ?? []),
        ...revocationRoutes({
          auth,
          revoked,
          publish: (event) => producer.publish(bus.topic('userRevocations'), [event]),
          clock: Date.now,
        }),
        ...dashboardRoutes({
          auth,
          registry,
          ...(deps.prometheus && { prometheus: deps.prometheus }),
          ...(deps.chatMinutes && { chatMinutes: deps.chatMinutes }),
        }),
        ...(deps.devSignIn ? devTokenRoutes(deps.devSignIn) : []),
        // Last: its catch-all serves the page.
        ...(deps.web ? webRoutes(deps.web) : []),
      ],
      s.writeLimits ?? {},
      auth,
    ),
    onError: (err, req) =>
      errorReply(err, s.retryAfterS, (e) =>
        log.error({ err: e, route: req.route, method: req.method }, 'request failed'),
      ),
    log,
    metrics: deps.metrics,
  });
  return {
    components: [
      {
        name: 'lifecycle-producer',
        start: async () => {
          await bus.init(['streamLifecycle', 'userRevocations', 'vodDeletions']);
          await producer.connect();
        },
        stop: () => producer.disconnect(),
      },
      ...(users?.components ?? []),
      revocations,
      projection,
      mediaProjection,
      server,
    ],
    server,
    registry,
    healthy: () => projection.healthy && mediaProjection.healthy && revocations.healthy,
  };
}
