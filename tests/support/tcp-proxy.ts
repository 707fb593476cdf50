import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real server that a spec can cut and restore, to show what a client
 * does while the server is unreachable (the server itself is shared and never stopped).
 * While down, new connections are reset and open ones are destroyed. While stalled, connections
 * stay open but nothing moves either way (a server that hangs): what was sent waits, and flows on
 * when the stall ends.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private up: boolean;
  private stalled = false;

  constructor(
    private readonly target: { host: string; port: number },
    opts: { up: boolean },
  ) {
    this.up = opts.up;
  }

  static toUrl(url: string, opts: { up: boolean }): TcpProxy {
    const u = new URL(url);
    return new TcpProxy({ host: u.hostname, port: Number(u.port) }, opts);
  }

  async listen(): Promise<string> {
    this.server = createServer((client) => {
      if (!this.up) return void client.resetAndDestroy();
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on('close', () => this.open.delete(s));
        s.on('error', () => undefined);
      }
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      if (!this.stalled) this.flow(pair);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        client.destroy();
        this.pairs.delete(pair);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('proxy has no port');
    return `http://127.0.0.1:${addr.port}`;
  }

  setUp(up: boolean): void {
    this.up = up;
    if (!up) for (const s of this.open) s.destroy();
  }

  /** Holds (or lets go of) every byte in both directions, on open connections and new ones. */
  stall(on: boolean): void {
    if (on === this.stalled) return;
    this.stalled = on;
    for (const pair of this.pairs) {
      if (on) {
        const [client, upstream] = pair;
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      } else this.flow(pair);
    }
  }

  private flow([client, upstream]: [Socket, Socket]): void {
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    this.setUp(false);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
