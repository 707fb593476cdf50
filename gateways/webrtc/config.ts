import { isIP } from 'node:net';
import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

const ip = z
  .string()
  .refine((h) => isIP(h) === 4 && h !== '0.0.0.0', 'an IPv4 address of this host (not 0.0.0.0: candidates name it)');

/** The WebRTC gateway's configuration (WHIP ingest, WHEP playback); the only reader of process.env for it. */
const schema = z
  .object({
    ...kafkaEnv,
    /** Where WHIP and WHEP requests arrive (HTTP). */
    WEBRTC_HOST: env.str('127.0.0.1'),
    WEBRTC_PORT: env.listenPort(8095),
    /**
     * The one address ICE binds and offers as a host candidate: candidates name only the address
     * the server is configured for, never every interface it happens to have.
     */
    WEBRTC_ICE_ADDRESS: ip.default('127.0.0.1'),
    /** An address peers reach the server at besides WEBRTC_ICE_ADDRESS (a 1:1 NAT's public address). */
    WEBRTC_ICE_ANNOUNCE: env.optionalList(ip),
    /** UDP ports ICE may use; 0 and 0 take any free port. */
    WEBRTC_UDP_PORT_MIN: env.int(0),
    WEBRTC_UDP_PORT_MAX: env.int(0),
    /** Where a WHIP publisher's media enters the platform: the RTMP ingest, as any encoder reaches it. */
    WEBRTC_INGEST_RTMP_URL: env.str('rtmp://127.0.0.1:1935/live'),
    /** Where an RTMP broadcast in ultra-low mode is pulled from for WHEP viewers: `<base>/<streamId>`. */
    WEBRTC_INGEST_PULL_URL: env.str('rtmp://127.0.0.1:1935/live'),
    WEBRTC_MAX_PUBLISHERS: env.int(20, 1),
    WEBRTC_MAX_VIEWERS: env.int(500, 1),
    WEBRTC_MAX_VIEWERS_PER_STREAM: env.int(200, 1),
    /** WHIP and WHEP offers one client address may post a minute (429 and Retry-After past it). */
    WEBRTC_OFFERS_PER_ADDRESS_PER_MIN: env.int(30, 1),
    /** Sessions (publishers and viewers) one client address may hold at once. */
    WEBRTC_SESSIONS_PER_ADDRESS: env.int(20, 1),
    /** A session whose ICE and DTLS have not connected by then is closed. */
    WEBRTC_CONNECT_TIMEOUT_MS: env.int(15_000, 1000),
    /**
     * How often a WHIP publisher is asked for a keyframe. Browsers send one only when asked, and
     * the media workers and new viewers join the stream at a keyframe.
     */
    WEBRTC_KEYFRAME_INTERVAL_MS: env.int(2_000, 250),
    /** How long an RTMP bridge keeps running after its last WHEP viewer left. */
    WEBRTC_BRIDGE_LINGER_MS: env.int(10_000, 0),
    /** How often what WHEP viewers received goes to live.viewer.playback (the counter's evidence). */
    WEBRTC_PLAYBACK_FLUSH_MS: env.int(5000, 100),
    /** Origins that may call WHIP and WHEP from a web page (`*` for any). */
    WEBRTC_CORS_ORIGINS: env.list('*'),
    METRICS_PORT: env.listenPort(9458),
    METRICS_HOST: env.str('127.0.0.1'),
    LOG_LEVEL: env.logLevel(),
  })
  .superRefine((c, ctx) => {
    if (c.WEBRTC_UDP_PORT_MIN > c.WEBRTC_UDP_PORT_MAX || c.WEBRTC_UDP_PORT_MAX > 65535)
      ctx.addIssue({
        code: 'custom',
        path: ['WEBRTC_UDP_PORT_MAX'],
        message: 'must be at least WEBRTC_UDP_PORT_MIN and at most 65535',
      });
  });

export type WebRtcConfig = z.infer<typeof schema>;

export const loadWebRtcConfig = (source: NodeJS.ProcessEnv = process.env): WebRtcConfig => loadConfig(schema, source);
