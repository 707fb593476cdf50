import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { AccessLogTail } from './access-tail.ts';
import { ASKED_ORIGIN, SERVED_FROM_CACHE, parseAccessLine, type AccessEntry } from './access-log.ts';
import { Collapser } from './collapser.ts';
import { HELD_REQUEST_LIMIT_S, renderNginxConf, type EdgeConfOptions } from './nginx-conf.ts';

/**
 * One edge cache: nginx (Debian's package) run in the foreground as this process's child, with a
 * config rendered at start, and in this process the collapser (collapser.ts) nginx sends its
 * misses to, which sends the origin one request for concurrent ones. nginx's access log, tailed from disk, feeds the metrics
 * (requests by kind and cache status, hit ratio); its error log is relayed to ours. Stopping
 * sends SIGQUIT (nginx finishes the requests in flight), then SIGKILL past the deadline. If nginx
 * dies on its own, `onExit` reports it, so the service stops rather than run without its cache.
 */
export interface EdgeOptions extends Omit<EdgeConfOptions, 'user' | 'upstream'> {
  nginx: string;
  origin: { host: string; port: number };
  /** The collapser's port, on 127.0.0.1; 0 (default) picks a free one. */
  collapserPort?: number;
  /** Largest origin answer the collapser buffers for concurrent requests (default 64 MiB). */
  collapserMaxBufferBytes?: number;
  log: Logger;
  metrics: Metrics;
  onExit?: (err: Error) => void;
  /** Each parsed access-log line, for benchmarks and tests. */
  onAccess?: (entry: AccessEntry) => void;
  stopDeadlineMs?: number;
  /** Access log size at which it is rotated. */
  rotateBytes?: number;
}

export class EdgeServer implements Component {
  readonly name = 'edge';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private tail: AccessLogTail | undefined;
  private stopping = false;
  private readonly requests: Counter<'kind' | 'cache'>;
  private readonly bytes: Counter<'kind' | 'cache'>;
  private readonly counts = new Map<string, { cached: number; origin: number }>();
  private readonly collapser: Collapser;

  constructor(private readonly opts: EdgeOptions) {
    this.collapser = new Collapser({
      host: '127.0.0.1',
      port: opts.collapserPort ?? 0,
      origin: opts.origin,
      timeoutMs: HELD_REQUEST_LIMIT_S * 1000,
      ...(opts.collapserMaxBufferBytes !== undefined && { maxBufferBytes: opts.collapserMaxBufferBytes }),
      log: opts.log,
      metrics: opts.metrics,
    });
    const registers = [opts.metrics.registry];
    this.requests = new Counter({
      name: 'live_edge_requests_total',
      help: "Requests the edge answered, by media kind and nginx's cache status",
      labelNames: ['kind', 'cache'],
      registers,
    });
    this.bytes = new Counter({
      name: 'live_edge_bytes_total',
      help: 'Body bytes the edge sent, by media kind and cache status',
      labelNames: ['kind', 'cache'],
      registers,
    });
    const counts = this.counts;
    new Gauge({
      name: 'live_edge_hit_ratio',
      help: 'Requests answered without an origin request of their own (from the cache, or a miss the collapser answered with a concurrent one) / requests that involved the cache, by media kind (all: every kind)',
      labelNames: ['kind'],
      registers,
      collect() {
        const all = { cached: 0, origin: 0 };
        for (const [kind, c] of counts) {
          all.cached += c.cached;
          all.origin += c.origin;
          if (c.cached + c.origin) this.set({ kind }, c.cached / (c.cached + c.origin));
        }
        if (all.cached + all.origin) this.set({ kind: 'all' }, all.cached / (all.cached + all.origin));
      },
    });
  }

  get healthy(): boolean {
    return this.child !== undefined;
  }

  get url(): string {
    return `http://${this.opts.host}:${this.opts.port}`;
  }

  /** Requests answered without an origin request of their own (hits, collapsed misses) and requests that went to the origin, over every kind. */
  get totals(): { cached: number; origin: number } {
    let cached = 0;
    let origin = 0;
    for (const c of this.counts.values()) {
      cached += c.cached;
      origin += c.origin;
    }
    return { cached, origin };
  }

  async start(): Promise<void> {
    const { dir } = this.opts;
    for (const sub of ['cache', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
    const conf = join(dir, 'nginx.conf');
    const root = process.getuid?.() === 0;
    await this.collapser.start();
    const upstream = { host: '127.0.0.1', port: this.collapser.port };
    writeFileSync(conf, renderNginxConf({ ...this.opts, upstream, ...(root && { user: userInfo().username }) }));
    const accessLog = join(dir, 'access.log');
    rmSync(accessLog, { force: true });
    const child = spawn(this.opts.nginx, ['-p', dir, '-c', conf, '-e', 'stderr'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.tail = new AccessLogTail(
      accessLog,
      (line) => this.onLine(line),
      () => child.kill('SIGUSR1'),
      {
        pollMs: 250,
        rotateBytes: this.opts.rotateBytes ?? 64 * 1024 * 1024,
      },
    );
    this.tail.start();
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 50) stderr.shift();
      this.opts.log.warn({ nginx: line }, 'nginx');
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.child = undefined;
        if (!this.stopping) {
          const err = new Error(`nginx exited (${signal ?? code}): ${stderr.slice(-5).join(' | ')}`);
          this.opts.log.error({ err }, 'edge nginx exited');
          this.opts.onExit?.(err);
        }
        resolve();
      }),
    );
    try {
      await this.waitUntilServing(stderr);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.opts.log.info(
      { url: this.url, origin: this.opts.origin, collapser: upstream.port, dir, pid: child.pid },
      'edge listening',
    );
  }

  /** nginx first (it finishes the requests in flight, which the collapser answers), then the collapser. */
  async stop(): Promise<void> {
    const child = this.child;
    this.stopping = true;
    if (child) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.stopDeadlineMs ?? 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    await this.tail?.stop();
    await this.collapser.stop();
  }

  private onLine(line: string): void {
    const e = parseAccessLine(line);
    if (!e) return;
    this.requests.inc({ kind: e.kind, cache: e.cache });
    this.bytes.inc({ kind: e.kind, cache: e.cache }, e.bytes);
    if (e.cache !== 'NONE') {
      const c = this.counts.get(e.kind) ?? { cached: 0, origin: 0 };
      // A collapsed miss was answered without an origin request of its own, as a hit is.
      if (SERVED_FROM_CACHE.has(e.cache) || (e.cache === 'MISS' && e.collapsed)) c.cached++;
      else if (ASKED_ORIGIN.has(e.cache)) c.origin++;
      this.counts.set(e.kind, c);
    }
    this.opts.onAccess?.(e);
  }

  /** nginx says nothing when it starts well: ask its health location until it answers. */
  private async waitUntilServing(stderr: string[]): Promise<void> {
    const until = Date.now() + 15_000;
    for (;;) {
      if (!this.child) throw new Error(`nginx did not start: ${stderr.join(' | ')}`);
      try {
        const res = await fetch(`${this.url}/edge/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`nginx is not answering on ${this.url}: ${stderr.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
