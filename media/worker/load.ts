import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { machineTicks, procCpuTicks } from '../capacity.ts';

/**
 * CPU use from /proc: the machine's (anyone's work counts, the worker shares its host) and each
 * ffmpeg's own. Each sample compares against the one before, so a figure is the use over the last
 * interval. Linux counts /proc times in USER_HZ ticks, 100 a second on every architecture's ABI.
 * Where /proc cannot be read (not Linux) every figure is null and no rung ever comes back on CPU
 * grounds, which is the safe side.
 */
const USER_HZ = 100;

export class CpuSampler {
  readonly cpuCount = Math.max(1, cpus().length);
  private machine: { busy: number; total: number } | null = null;
  private readonly procs = new Map<number, { ticks: number; at: number }>();
  /** Busy cores of the machine over the last interval. */
  busyCores: number | null = null;

  async sampleMachine(): Promise<void> {
    const now = machineTicks(await readFile('/proc/stat', 'utf8').catch(() => ''));
    const before = this.machine;
    this.machine = now;
    if (!now || !before || now.total <= before.total) return;
    this.busyCores = ((now.busy - before.busy) / (now.total - before.total)) * this.cpuCount;
  }

  get idleCores(): number | null {
    return this.busyCores === null ? null : Math.max(0, this.cpuCount - this.busyCores);
  }

  /** Cores the process used since the last call for it; null on the first call or when it is gone. */
  async processCores(pid: number): Promise<number | null> {
    const ticks = procCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
    const at = Date.now();
    const before = this.procs.get(pid);
    if (ticks === null) {
      this.procs.delete(pid);
      return null;
    }
    this.procs.set(pid, { ticks, at });
    if (!before || at <= before.at) return null;
    return (ticks - before.ticks) / USER_HZ / ((at - before.at) / 1000);
  }

  forget(pid: number): void {
    this.procs.delete(pid);
  }
}
