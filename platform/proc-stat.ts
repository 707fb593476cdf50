import { readFileSync } from 'node:fs';

/**
 * /proc/<pid>/stat (Linux, proc(5)), the fields this project reads. The command name is in
 * parentheses and may hold spaces, so fields are counted from after its closing one.
 */
export interface ProcStat {
  state: string;
  ppid: number;
  /** utime + stime, in clock ticks (USER_HZ, 100 on every Linux this runs on). */
  cpuTicks: number;
  /** When the process started, in clock ticks since boot: tells a reused pid from the original. */
  startTicks: string;
}

export function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), startTicks: f[19]! };
  } catch {
    return undefined;
  }
}
