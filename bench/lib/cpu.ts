import { readdirSync } from 'node:fs';
import { procStat } from '../../platform/proc-stat.ts';

/**
 * CPU time of processes, read from /proc (Linux): utime + stime of a process and of every
 * process below it (an edge's nginx master and workers run under its Node wrapper).
 */
const TICKS_PER_S = 100; // USER_HZ: 100 on every Linux this runs on

interface Stat {
  pid: number;
  ppid: number;
  ticks: number;
}

function stat(pid: number): Stat | null {
  const s = procStat(pid);
  return s ? { pid, ppid: s.ppid, ticks: s.cpuTicks } : null;
}

/** CPU seconds used so far by `pid` and its descendants (those alive now). */
export function cpuSeconds(pid: number): number {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => stat(Number(d)))
    .filter((s): s is Stat => s !== null);
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of all) {
      if (!tree.has(s.pid) && tree.has(s.ppid)) {
        tree.add(s.pid);
        grew = true;
      }
    }
  }
  return all.filter((s) => tree.has(s.pid)).reduce((n, s) => n + s.ticks, 0) / TICKS_PER_S;
}

/** Cores used by each named process tree between `start()` and `stop()`. */
export function cpuMeter(pids: Record<string, number>): { stop: () => Record<string, number> } {
  const t0 = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return {
    stop: () => {
      const s = (performance.now() - t0) / 1000;
      return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, (cpuSeconds(pid) - before[k]!) / s]));
    },
  };
}
