import type { Logger } from './logger.ts';

/**
 * Lifecycle for a long-running process. Components start in order and stop in reverse
 * (listeners -> consumers -> producers -> store clients), each within a shared deadline; a
 * second signal or the deadline forces exit. A fatal error from any component stops the rest.
 */
export interface Component {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function runService(
  log: Logger,
  components: Component[],
  opts: { shutdownDeadlineMs?: number } = {},
): Promise<{ stop: (reason: string) => Promise<void> }> {
  const started: Component[] = [];
  let stopping: Promise<void> | undefined;
  const deadline = opts.shutdownDeadlineMs ?? 15_000;

  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        log.error({ deadlineMs: deadline }, 'shutdown deadline passed; exiting');
        process.exit(1);
      }, deadline);
      timer.unref();
      for (const c of [...started].reverse()) {
        try {
          await c.stop();
          log.info({ component: c.name }, 'stopped');
        } catch (err) {
          log.error({ err, component: c.name }, 'stop failed');
        }
      }
      clearTimeout(timer);
    })();
    return stopping;
  };

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      process.once(sig, () => process.exit(130));
      void stop(sig).then(() => process.exit(0));
    });
  }

  try {
    for (const c of components) {
      await c.start();
      started.push(c);
      log.info({ component: c.name }, 'started');
    }
  } catch (err) {
    log.error({ err }, 'start failed');
    await stop('start failed');
    throw err;
  }
  return { stop };
}

/** For a component to report an unrecoverable failure (e.g. kafkajs gave up): stop everything, exit non-zero. */
export function fatal(log: Logger, stop: (reason: string) => Promise<void>) {
  return (err: Error): void => {
    log.fatal({ err }, 'fatal error');
    void stop(`fatal: ${err.message}`).then(() => process.exit(1));
  };
}
