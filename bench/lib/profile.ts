import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * CPU seconds (user + system) process `pid` has used so far, from /proc (Linux). Its clock ticks
 * are 1/100 s: USER_HZ, on every architecture Node runs on.
 */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
