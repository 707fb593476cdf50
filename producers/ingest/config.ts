import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

/** An address to listen on: an IP literal (`0.0.0.0` or `::` for every interface) or a host name. */
const listenHost = z
  .string()
  .refine(
    (h) =>
      isIP(h) !== 0 ||
      /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h),
    'an IP address (0.0.0.0 or :: for every interface) or a host name',
  );

/** RTMP ingest's configuration; the only reader of process.env for it. */
const schema = z
  .object({
    ...kafkaEnv,
    /**
     * Where encoders connect. Loopback by default: a streamer's encoder on another machine needs
     * `0.0.0.0` (or the interface's address), and then the stream key crosses the network in clear
     * text unless the encoder uses RTMPS instead.
     */
    INGEST_RTMP_HOST: listenHost.default('127.0.0.1'),
    INGEST_RTMP_PORT: env.listenPort(1935),
    /** RTMPS (RTMP over TLS) listens here when set, with the certificate and key below; 0 picks a free port. */
    INGEST_RTMPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    /** Where the RTMPS listener binds; INGEST_RTMP_HOST unless set. */
    INGEST_RTMPS_HOST: listenHost.optional(),
    /** PEM certificate (chain) and private key of the RTMPS listener. */
    INGEST_TLS_CERT_FILE: z.string().min(1).optional(),
    INGEST_TLS_KEY_FILE: z.string().min(1).optional(),
    /** Base of the internal pull URL put in StreamWentLive: `<base>/<streamId>`; no secret in it. */
    INGEST_PULL_BASE_URL: z
      .string()
      .regex(/^rtmp:\/\//)
      .optional(),
    /** Peers allowed to pull (play) an ingested stream: media workers. Exact addresses. */
    INGEST_PULL_ALLOW: env.list('127.0.0.1,::1,::ffff:127.0.0.1'),
    /** Identifies this instance in StreamWentLive.ingestNode. */
    INGEST_NODE_ID: env.str(`ingest-${hostname()}`),
    /** A live publisher sending nothing for this long is cut off and its stream ended (INGEST_TIMEOUT). */
    INGEST_MEDIA_TIMEOUT_MS: env.int(10_000, 500),
    /**
     * A live publisher whose connection drops without unpublishing (a network blip; encoders such
     * as OBS reconnect on their own) keeps its stream live this long, so the same key resumes it.
     * 0 ends the stream at once.
     */
    INGEST_RECONNECT_GRACE_MS: env.int(30_000, 0),
    /**
     * This node's lease on live.ingest.leases (producers/ingest/lease.ts): renewed every
     * INGEST_LEASE_INTERVAL_MS, each renewal holding for INGEST_LEASE_TTL_MS. A node that stops
     * renewing is presumed lost once its lease runs out, and the ingest watchdog ends its live
     * streams INGEST_RECONNECT_GRACE_MS later unless their encoders reconnected elsewhere. The ttl
     * must cover at least two renewals, so one slow renewal does not lose the lease.
     */
    INGEST_LEASE_INTERVAL_MS: env.int(3000, 100),
    INGEST_LEASE_TTL_MS: env.int(15_000, 200),
    /** A connection that sends nothing for this long is closed. */
    INGEST_IDLE_SESSION_TIMEOUT_MS: env.int(30_000, 1000),
    /**
     * A connection that has not published with a valid key (or, from INGEST_PULL_ALLOW, started a
     * pull) this long after it opened is closed, however slowly it keeps sending.
     */
    INGEST_AUTH_TIMEOUT_MS: env.int(10_000, 500),
    /** Bound on probing the source's resolution, frame rate and codecs. */
    INGEST_PROBE_TIMEOUT_S: env.int(8, 1),
    /** How long start-up may take to load the stream registry from the topic. */
    INGEST_REGISTRY_CATCHUP_MS: env.int(120_000, 1000),
    METRICS_PORT: env.listenPort(9450),
    METRICS_HOST: env.str('127.0.0.1'),
    LOG_LEVEL: env.logLevel(),
  })
  .superRefine((cfg, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (cfg.INGEST_LEASE_TTL_MS < 2 * cfg.INGEST_LEASE_INTERVAL_MS)
      problem('INGEST_LEASE_TTL_MS', 'must be at least twice INGEST_LEASE_INTERVAL_MS (a lease covers two renewals)');
    const cert = cfg.INGEST_TLS_CERT_FILE;
    const key = cfg.INGEST_TLS_KEY_FILE;
    if (cfg.INGEST_RTMPS_PORT === undefined) {
      if (cert !== undefined || key !== undefined) {
        problem('INGEST_RTMPS_PORT', 'must be set to serve RTMPS with INGEST_TLS_CERT_FILE/INGEST_TLS_KEY_FILE');
      }
      return;
    }
    if (cfg.INGEST_RTMPS_PORT !== 0 && cfg.INGEST_RTMPS_PORT === cfg.INGEST_RTMP_PORT) {
      problem('INGEST_RTMPS_PORT', 'must differ from INGEST_RTMP_PORT');
    }
    if (cert === undefined)
      problem('INGEST_TLS_CERT_FILE', 'required when INGEST_RTMPS_PORT is set (a PEM certificate)');
    if (key === undefined) problem('INGEST_TLS_KEY_FILE', 'required when INGEST_RTMPS_PORT is set (a PEM private key)');
    const certPem = cert === undefined ? undefined : readable('INGEST_TLS_CERT_FILE', cert, problem);
    const keyPem = key === undefined ? undefined : readable('INGEST_TLS_KEY_FILE', key, problem);
    if (!certPem || !keyPem) return;
    try {
      createSecureContext({ cert: certPem, key: keyPem });
    } catch (err) {
      problem('INGEST_TLS_CERT_FILE', `not a PEM certificate matching INGEST_TLS_KEY_FILE (${(err as Error).message})`);
    }
  });

function readable(name: string, path: string, problem: (path: string, message: string) => void): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    problem(name, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return undefined;
  }
}

export type IngestConfig = z.infer<typeof schema>;

export const loadIngestConfig = (source: NodeJS.ProcessEnv = process.env): IngestConfig => loadConfig(schema, source);

/** The RTMPS listener the configuration asks for (validated above), or null when RTMPS is off. */
export function rtmpsListener(cfg: IngestConfig): { port: number; host: string; cert: Buffer; key: Buffer } | null {
  if (cfg.INGEST_RTMPS_PORT === undefined || !cfg.INGEST_TLS_CERT_FILE || !cfg.INGEST_TLS_KEY_FILE) return null;
  return {
    port: cfg.INGEST_RTMPS_PORT,
    host: cfg.INGEST_RTMPS_HOST ?? cfg.INGEST_RTMP_HOST,
    cert: readFileSync(cfg.INGEST_TLS_CERT_FILE),
    key: readFileSync(cfg.INGEST_TLS_KEY_FILE),
  };
}
