import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endpointsOf, type LauncherConfig } from './config.ts';
import { portHolder, runningPid, startDetached, stopProcess, tail } from './proc.ts';
import type { LaunchContext, Reporter, ServerDef } from './types.ts';

/**
 * Brings servers up and down as one unit. An `up` either ends with every requested server
 * healthy or stops everything it started itself: it never leaves half a platform behind.
 * A server that is already running and passes its probe is left alone, so `up` is idempotent.
 */
export class Launcher {
  constructor(
    private readonly config: LauncherConfig,
    private readonly servers: ServerDef[],
    private readonly report: Reporter,
  ) {}

  context(server: ServerDef): LaunchContext {
    const dataDir = join(this.config.dataDir, server.name);
    return {
      cacheDir: this.config.cacheDir,
      dataDir,
      logFile: join(dataDir, 'server.log'),
      host: this.config.host,
      ports: this.config.ports,
      report: this.report,
    };
  }

  private pidFile(server: ServerDef): string {
    return join(this.config.dataDir, server.name, 'server.pid');
  }

  async up(): Promise<void> {
    this.checkDisk();
    mkdirSync(this.config.dataDir, { recursive: true });
    mkdirSync(this.config.cacheDir, { recursive: true });

    const toStart: ServerDef[] = [];
    for (const s of this.servers) {
      if (runningPid(this.pidFile(s)) !== undefined && (await this.probeOnce(s))) {
        this.report.info(`${s.name}: already running and healthy`);
        continue;
      }
      await stopProcess(this.pidFile(s), 5000); // a stale or unhealthy one of ours
      toStart.push(s);
    }
    const clashes: string[] = [];
    for (const s of toStart) {
      for (const port of s.ports(this.config.ports)) {
        const holder = await portHolder(this.config.host, port);
        if (holder) clashes.push(`${s.name} needs ${this.config.host}:${port}, which is held by ${holder}`);
      }
    }
    if (clashes.length) {
      throw new Error(`Ports in use (stop those processes or set LIVE_*_PORT):\n  ${clashes.join('\n  ')}`);
    }

    // Downloads one after another: parallel Maven runs contend for the same local repository.
    for (const s of toStart) {
      const started = Date.now();
      this.report.info(`${s.name}: fetching ${s.describe} (cached after the first time)`);
      await s.install(this.context(s));
      this.report.info(`${s.name}: ready to start (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }

    const started: ServerDef[] = [];
    try {
      for (const s of toStart) {
        const ctx = this.context(s);
        mkdirSync(ctx.dataDir, { recursive: true });
        await s.prepare(ctx);
        rmSync(ctx.logFile, { force: true });
        const pid = startDetached(s.spawn(ctx), ctx.logFile, this.pidFile(s));
        started.push(s);
        this.report.info(`${s.name}: started (pid ${pid}), log ${ctx.logFile}`);
      }
      await Promise.all(started.map((s) => this.waitHealthy(s)));
    } catch (err) {
      this.report.warn(`start failed; stopping the ${started.length} server(s) started by this run`);
      await Promise.all(started.map((s) => stopProcess(this.pidFile(s), 15_000)));
      throw err;
    }
    writeFileSync(join(this.config.dataDir, 'endpoints.json'), JSON.stringify(endpointsOf(this.config), null, 2));
  }

  async down(opts: { wipe: boolean }): Promise<void> {
    // Reverse order: clients of Kafka (the registry's storage, if any) go first.
    for (const s of [...this.servers].reverse()) {
      const result = await stopProcess(this.pidFile(s), 60_000);
      this.report.info(`${s.name}: ${result}`);
    }
    if (opts.wipe) {
      rmSync(this.config.dataDir, { recursive: true, force: true });
      this.report.info(`wiped ${this.config.dataDir}`);
    }
  }

  async status(): Promise<Array<{ name: string; pid?: number; healthy: boolean; describe: string }>> {
    const out = [];
    for (const s of this.servers) {
      const pid = runningPid(this.pidFile(s));
      out.push({ name: s.name, pid, healthy: pid !== undefined && (await this.probeOnce(s)), describe: s.describe });
    }
    return out;
  }

  logTail(name: string, lines: number): string {
    const s = this.servers.find((x) => x.name === name);
    if (!s) throw new Error(`unknown server "${name}"; one of ${this.servers.map((x) => x.name).join(', ')}`);
    return tail(this.context(s).logFile, lines);
  }

  private async probeOnce(s: ServerDef): Promise<boolean> {
    try {
      await s.probe(this.context(s));
      return true;
    } catch {
      return false;
    }
  }

  private async waitHealthy(s: ServerDef): Promise<void> {
    const ctx = this.context(s);
    const t0 = Date.now();
    let last = 'not probed yet';
    while (Date.now() - t0 < s.startTimeoutMs) {
      if (runningPid(this.pidFile(s)) === undefined) {
        throw new Error(`${s.name} exited during start. Last log lines:\n${tail(ctx.logFile, 30)}`);
      }
      try {
        await s.probe(ctx);
        this.report.info(`${s.name}: healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(
      `${s.name} not healthy after ${s.startTimeoutMs / 1000} s (last probe: ${last}). Last log lines:\n${tail(ctx.logFile, 30)}`,
    );
  }

  private checkDisk(): void {
    mkdirSync(this.config.dataDir, { recursive: true });
    const fs = statfsSync(this.config.dataDir);
    const freeMb = (fs.bavail * fs.bsize) / 2 ** 20;
    if (freeMb < this.config.minFreeDiskMb) {
      throw new Error(
        `Only ${freeMb.toFixed(0)} MiB free under ${this.config.dataDir}; the servers need at least ` +
          `${this.config.minFreeDiskMb} MiB (LIVE_MIN_FREE_DISK_MB). Free some disk or point LIVE_DATA_DIR elsewhere.`,
      );
    }
  }
}
