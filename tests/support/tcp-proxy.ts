import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real server that a spec can cut and restore, to show what a client
 * does while the server is unreachable (the server itself is shared and never stopped).
 * While down, new connections are reset and open ones are destroyed.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  private up: boolean;

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
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
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

  async close(): Promise<void> {
    this.setUp(false);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
