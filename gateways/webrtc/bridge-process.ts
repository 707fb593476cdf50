import { spawn, type ChildProcess } from 'node:child_process';
import { ffmpegLauncher } from '../../platform/ffmpeg.ts';

/**
 * One bridge's ffmpeg: started with its arguments (and an SDP on stdin), its last stderr lines
 * kept for the log, stopped gracefully (SIGINT: an RTMP output unpublishes, so the broadcast ends
 * at once) or killed (SIGKILL: the ingest sees a dropped encoder and holds the stream for its
 * reconnect grace).
 */
export class BridgeProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly stderr: string[] = [];

  constructor(args: string[], stdin?: string) {
    this.child = spawn(ffmpegLauncher(), args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    if (stdin !== undefined) this.child.stdin!.end(stdin);
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(...chunk.split('\n').filter(Boolean));
      if (this.stderr.length > 20) this.stderr.splice(0, this.stderr.length - 20);
    });
    this.exited = new Promise((done) => {
      this.child.once('exit', (code, signal) => done({ code, signal }));
      this.child.once('error', () => done({ code: -1, signal: null }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  tail(): string {
    return this.stderr.slice(-5).join(' | ');
  }

  /** SIGINT, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
