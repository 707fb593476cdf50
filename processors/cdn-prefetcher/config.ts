import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

/** The CDN prefetcher's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  /** Every edge to warm, comma-separated base URLs. */
  EDGE_URLS: env.list('http://127.0.0.1:8088').pipe(z.array(z.url().transform((u) => u.replace(/\/+$/, '')))),
  CDN_PREFETCH_GROUP_ID: env.str('cdn-prefetcher'),
  CDN_PREFETCH_TIMEOUT_MS: env.int(5000, 100),
  /** Announcements older than this are not warmed (their segments have left the live playlists). */
  CDN_PREFETCH_MAX_AGE_MS: env.int(30_000, 1000),
  CDN_PREFETCH_CONCURRENCY: env.int(16, 1),
  METRICS_PORT: env.port(9454),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type PrefetcherConfig = z.infer<typeof schema>;

export const loadPrefetcherConfig = (source: NodeJS.ProcessEnv = process.env): PrefetcherConfig =>
  loadConfig(schema, source);
