import { procStat } from '../../platform/proc-stat.ts';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import type { SpawnSpec } from './types.ts';

/**
 * Detached server processes tracked by pid files. Each server runs in its own process group so
 * that stopping it also stops whatever its start script forked (Elasticsearch's launcher forks
 * the JVM). A pid file records the pid and the kernel's start time of that process; a pid whose
 * start time differs was reused by another process, so the file is stale, never a process to kill.
 */
interface PidRecord {
  pid: number;
  startTicks: string;
  cmd: string;
}

/** The start time of a live process (a zombie counts as gone). */
function startTicksOf(pid: number): string | undefined {
  const stat = procStat(pid);
  return stat && stat.state !== 'Z' ? stat.startTicks : undefined;
}

export function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const rec = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  const ticks = startTicksOf(rec.pid);
  return ticks !== undefined && ticks === rec.startTicks ? rec.pid : undefined;
}

function userIds(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  return { uid, gid };
}

export function startDetached(spec: SpawnSpec, logFile: string, pidFile: string): number {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const asRoot = process.getuid?.() === 0;
  const ids = spec.user && asRoot ? userIds(spec.user) : undefined;
  const child = spawn(spec.cmd, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', out, out],
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not spawn ${spec.cmd}`);
  child.unref();
  const cmd = [spec.cmd, ...spec.args].join(' ');
  const startTicks = startTicksOf(child.pid) ?? '';
  writeFileSync(pidFile, JSON.stringify({ pid: child.pid, startTicks, cmd } satisfies PidRecord));
  return child.pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM the process group, wait for a clean exit, SIGKILL after the deadline. */
export async function stopProcess(pidFile: string, deadlineMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    rmSync(pidFile, { force: true });
    return 'not-running';
  }
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (!alive(pid)) {
      rmSync(pidFile, { force: true });
      return 'stopped';
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  signal('SIGKILL');
  rmSync(pidFile, { force: true });
  return 'killed';
}

/** Free, or who holds it ("java (pid 1234)"), so an operator knows what to stop. */
export async function portHolder(host: string, port: number): Promise<string | undefined> {
  const free = await new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
  if (free) return undefined;
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
    if (m) return `${m[1]} (pid ${m[2]})`;
  } catch {
    /* ss missing: fall through */
  }
  return 'another process';
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}
