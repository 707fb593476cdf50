import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../platform/paths.ts';
import { nodeBinary, type Runtime } from '../../platform/runtime.ts';

/**
 * A platform service run as a real child process, so a spec can SIGKILL or SIGTERM it. It runs
 * its sources through tsx (`node --import tsx <entry>`): a spec tests the code as it stands, with
 * no build to go stale; `./live up` and production run the same entry bundled
 * (compose/service-build.ts). Its JSON log lines are kept for the spec to
 * wait on (e.g. "listening" with the port it picked).
 */
const root = REPO_ROOT;

export type LogLine = Record<string, unknown> & { msg?: string };

export class ServiceProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(
    readonly label: string,
    entry: string,
    env: Record<string, string>,
    runtime: Runtime = 'platform',
    /** What Node runs: the entry through tsx, or a built bundle (compose/service-build.ts's builtCommand). */
    argv: string[] = ['--import', 'tsx', entry],
  ) {
    this.child = spawn(nodeBinary(runtime), argv, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderr.push(line);
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((done) => this.child.once('exit', (code, signal) => done({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first log line matching, failing early (with its output) if the process exits. */
  async waitForLog(what: string, match: (l: LogLine) => boolean, deadlineMs = 60_000): Promise<LogLine> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (!this.running) throw new Error(`${this.label} exited before ${what}:\n${this.tail()}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${this.label}: ${what}\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  tail(n = 20): string {
    return [...this.logs.slice(-n).map((l) => JSON.stringify(l)), ...this.stderr.slice(-n)].join('\n');
  }
}
