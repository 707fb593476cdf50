import { DEFAULT_CACHE_POLICY } from '../../domain/media/hls-paths.ts';
import { OriginServer } from '../../gateways/origin/server.ts';
import type { Logger } from '../../platform/logger.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';

/** A real origin on a free loopback port serving `mediaRoot`, with the default cache policy. */
export async function startOrigin(
  mediaRoot: string,
  o: { log?: Logger; metrics?: Metrics } = {},
): Promise<OriginServer> {
  const origin = new OriginServer({
    host: '127.0.0.1',
    port: 0,
    mediaRoot,
    cache: DEFAULT_CACHE_POLICY,
    log: o.log ?? createLogger('origin', 'silent'),
    metrics: o.metrics ?? new Metrics('origin', { defaults: false }),
  });
  await origin.start();
  return origin;
}
