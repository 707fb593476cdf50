import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../platform/paths.ts';

/**
 * Drives one bench/lib/ws-loadgen.c process (a native epoll WebSocket reader; why native is in
 * its header): compiled with the system's C compiler on first use or when the source changed,
 * then spoken to over stdin/stdout, one line per command and one JSON line per answer.
 */
export type LoadgenReply =
  | { type: 'connected'; ok: number; failed: number; firstError: string | null }
  | { type: 'count'; received: number; lastAt: number; closed: number }
  | { type: 'stats'; received: number; lastAt: number; closed: number; hist: Array<[number, number]> }
  | { type: 'reset' }
  | { type: 'closedAll' };

const SOURCE = join(import.meta.dirname, 'ws-loadgen.c');
const BINARY = join(REPO_ROOT, 'dist', 'bench', 'ws-loadgen');
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function build(): string {
  const fresh = (() => {
    try {
      return statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs;
    } catch {
      return false;
    }
  })();
  if (!fresh) {
    mkdirSync(dirname(BINARY), { recursive: true });
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-o', BINARY, SOURCE], { stdio: 'inherit' });
  }
  return BINARY;
}

export class WsLoadgen {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ type: string; resolve: (r: LoadgenReply) => void }> = [];
  private readonly ready: Promise<void>;
  private exited: Error | undefined;

  private constructor() {
    this.child = spawn(build(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let markReady: () => void;
    this.ready = new Promise((r) => (markReady = r));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as LoadgenReply | { type: 'ready' };
      if (m.type === 'ready') return markReady();
      const w = this.waiting.shift();
      if (!w || w.type !== m.type) throw new Error(`ws-loadgen answered ${m.type}, expected ${w?.type ?? 'nothing'}`);
      w.resolve(m);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`ws-loadgen exited (${signal ?? code})`);
    });
  }

  static async start(): Promise<WsLoadgen> {
    const g = new WsLoadgen();
    await g.ready;
    return g;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Opens a reader per URL (all on one ws://ipv4:port), `concurrency` opening at a time. */
  connect(urls: string[], opts: { sio: boolean; concurrency: number; origin: string }, deadlineMs: number) {
    if (urls.length === 0) return Promise.resolve({ type: 'connected', ok: 0, failed: 0, firstError: null } as const);
    const first = new URL(urls[0]!);
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    const paths = urls.map((u) => {
      const url = new URL(u);
      if (url.host !== first.host) throw new Error('one load generator reads from one server');
      return `${url.pathname}${url.search}`;
    });
    const head = `connect ${opts.sio ? 1 : 0} ${opts.concurrency} ${first.hostname} ${first.port} ${key} ${accept} ${opts.origin} ${paths.length}`;
    return this.ask<Extract<LoadgenReply, { type: 'connected' }>>([head, ...paths].join('\n'), 'connected', deadlineMs);
  }

  count() {
    return this.ask<Extract<LoadgenReply, { type: 'count' }>>('count', 'count');
  }

  stats() {
    return this.ask<Extract<LoadgenReply, { type: 'stats' }>>('stats', 'stats');
  }

  /** From now on only frames marked `t=<phase>:` count. */
  reset(phase: string) {
    return this.ask('reset ' + phase, 'reset');
  }

  closeAll() {
    return this.ask('closeAll', 'closedAll', 60_000);
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }

  private ask<T extends LoadgenReply>(command: string, type: T['type'], deadlineMs = 30_000): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${type}" from ws-loadgen in ${deadlineMs} ms`)), deadlineMs);
      this.waiting.push({
        type,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as T);
        },
      });
      this.child.stdin!.write(command + '\n');
    });
  }
}
