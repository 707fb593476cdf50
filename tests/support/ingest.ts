import { createHash, randomBytes } from 'node:crypto';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import { endpoints } from './endpoints.ts';
import { ServiceProcess } from './process.ts';
import { streamEvents } from './stream-events.ts';

/**
 * RTMP ingest as a real process on loopback, on this spec's topics, with the ports it picked.
 * A variable given as undefined is left unset (its default applies).
 */
export async function startIngest(
  bus: EventBus,
  env: Record<string, string | undefined> = {},
): Promise<{ proc: ServiceProcess; port: number; tlsPort: number | null; host: string }> {
  const e = endpoints();
  const vars: Record<string, string | undefined> = {
    KAFKA_BROKERS: e.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: e.registryUrl,
    LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
    INGEST_RTMP_HOST: '127.0.0.1',
    INGEST_RTMP_PORT: '0',
    METRICS_PORT: '0',
    INGEST_NODE_ID: 'ingest-spec',
    NODE_OPTIONS: '--openssl-legacy-provider',
    LOG_LEVEL: 'info',
    ...env,
  };
  const set = Object.entries(vars).filter((kv): kv is [string, string] => kv[1] !== undefined);
  const proc = new ServiceProcess('ingest', 'producers/ingest/main.ts', Object.fromEntries(set));
  const listening = await proc.waitForLog('rtmp listening', (l) => l.msg === 'rtmp listening', 90_000);
  const port = listening.port as number;
  const tlsPort =
    env.INGEST_RTMPS_PORT === undefined
      ? null
      : ((await proc.waitForLog('rtmps listening', (l) => l.msg === 'rtmps listening', 30_000)).port as number);
  return { proc, port, tlsPort, host: listening.host as string };
}

/** A stream created on the lifecycle topic, with the key that publishes it. */
export function newStream(): { streamId: string; key: string; created: StreamLifecycleEvent } {
  const key = `live_${randomBytes(32).toString('base64url')}`;
  const streamId = `stream_${randomBytes(6).toString('hex')}`;
  const created = streamEvents.created(streamId, { streamKeyHash: createHash('sha256').update(key).digest('hex') });
  return { streamId, key, created };
}
