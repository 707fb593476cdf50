import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** With BENCH_PROFILE=<dir>, a V8 CPU profile of `fn` is written to <dir>/<name>.cpuprofile. */
export async function profiled<R>(name: string | undefined, fn: () => Promise<R>): Promise<R> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir || !name) return fn();
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
