import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

/** The ingest watchdog's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  /**
   * How long a stream on a lost ingest node (its lease ran out) stays live for its encoder to
   * reconnect elsewhere before it ends (INGEST_NODE_LOST). The same variable as ingest's grace for
   * a dropped encoder, so one setting covers both.
   */
  INGEST_RECONNECT_GRACE_MS: env.int(30_000, 0),
  /** How often leases and live streams are looked over. */
  INGEST_WATCHDOG_SWEEP_MS: env.int(1000, 50),
  /** Names this process's own consumer groups (it reads every partition); unique per process unless set. */
  INGEST_WATCHDOG_INSTANCE_ID: env.instanceId(),
  /** How long start-up may take to read the leases and the lifecycle topic. */
  INGEST_WATCHDOG_CATCHUP_MS: env.int(120_000, 1000),
  METRICS_PORT: env.listenPort(9459),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type WatchdogConfig = z.infer<typeof schema>;

export const loadWatchdogConfig = (source: NodeJS.ProcessEnv = process.env): WatchdogConfig =>
  loadConfig(schema, source);
