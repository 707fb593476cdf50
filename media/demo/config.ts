import { resolve } from 'node:path';
import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { signingKeyEnv } from '../../platform/auth/signing-key.ts';
import { REPO_ROOT } from '../../platform/paths.ts';

const repoRoot = REPO_ROOT;

/** The demo broadcast's configuration; the only reader of process.env for it. */
const schema = z.object({
  /** The platform's HTTP API: the demo creates its stream there, as a streamer would. */
  DEMO_API_URL: z.url().default('http://127.0.0.1:8080'),
  /** RTMP ingest base; the stream key goes after it. */
  DEMO_RTMP_URL: z
    .string()
    .regex(/^rtmp:\/\//)
    .default('rtmp://127.0.0.1:1935/live'),
  /** Holds the demo stream's id and key (mode 600); the key is never logged nor put in an event. */
  DEMO_STATE_FILE: env.str(resolve(repoRoot, '.data', 'demo-broadcast.json')),
  /** Small on purpose: the box also transcodes it. 854x480 gives the 480p/360p/160p rungs. */
  DEMO_SIZE: z
    .string()
    .regex(/^\d+x\d+$/)
    .default('854x480'),
  DEMO_FPS: env.int(30, 1),
  DEMO_TITLE: env.str('Demo broadcast: test pattern with a wall clock'),
  /** The demo streamer's identity, signed with the API's own key like `npm run token`. */
  DEMO_USER_ID: env.str('user_demo'),
  DEMO_USER_NAME: env.str('demo'),
  ...signingKeyEnv,
  API_JWT_SECRET_FILE: env.str(resolve(repoRoot, '.data', 'api-jwt.secret')),
  METRICS_PORT: env.listenPort(9457),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type DemoConfig = z.infer<typeof schema>;

export const loadDemoConfig = (source: NodeJS.ProcessEnv = process.env): DemoConfig => loadConfig(schema, source);
