/**
 * Demo broadcast process: keeps one live demo stream on a fresh install (`./live up`).
 *   npx tsx media/demo/main.ts
 */
import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';
import { mintToken } from '../../platform/auth/tokens.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { runService } from '../../platform/service.ts';
import { ffmpegLauncher } from '../../platform/ffmpeg.ts';
import { DemoBroadcast } from './broadcast.ts';
import { loadDemoConfig } from './config.ts';

const cfg = loadDemoConfig();
const log = createLogger('demo-broadcast', cfg.LOG_LEVEL);
const metrics = new Metrics('demo-broadcast');
let demo: DemoBroadcast | undefined;
let current: string | null = null;

await runService(log, [
  {
    name: 'demo',
    start: async () => {
      const tools = ensureDebianTools([DEBIAN_TOOLS.ffmpeg], { info: (m) => log.info(m), warn: (m) => log.warn(m) });
      const key = loadSigningKey(cfg);
      demo = new DemoBroadcast({
        apiUrl: cfg.DEMO_API_URL,
        rtmpUrl: cfg.DEMO_RTMP_URL,
        stateFile: cfg.DEMO_STATE_FILE,
        title: cfg.DEMO_TITLE,
        size: cfg.DEMO_SIZE,
        fps: cfg.DEMO_FPS,
        token: () =>
          mintToken(key, tokenSettings(cfg), { userId: cfg.DEMO_USER_ID, username: cfg.DEMO_USER_NAME }, 600),
        // Behind the parent-death launcher: the publisher never outlives this process.
        ffmpegPath: ffmpegLauncher(tools.ffmpeg),
        log,
        onRun: (id) => (current = id),
      });
      demo.start();
    },
    stop: async () => demo?.stop(),
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({
    // Up once its loop runs: a publisher between restarts is reported, not a reason to restart the demo.
    ok: demo !== undefined,
    detail: { streamId: current, publishing: demo?.publishing ?? false },
  })),
]);
