import { open, rename, stat } from 'node:fs/promises';

/**
 * Follows nginx's access log as it grows and hands over complete lines. Past `rotateBytes` it
 * renames the file and asks nginx to reopen its logs (`reopen`, SIGUSR1), reads what is left of
 * the old file, and goes on with the new one, so nothing is lost and the disk does not fill.
 * A regular file rather than a pipe: nginx never blocks on a slow reader.
 */
export class AccessLogTail {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly reopen: () => void,
    private readonly opts: { pollMs: number; rotateBytes: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.reading = this.reading.then(() => this.poll()).catch(() => undefined);
    }, this.opts.pollMs);
  }

  /** Stops polling after one last read (call once nginx has flushed and exited). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reading;
    await this.poll().catch(() => undefined);
  }

  private async poll(): Promise<void> {
    await this.readFrom(this.file);
    if (this.offset < this.opts.rotateBytes) return;
    const old = `${this.file}.1`;
    await rename(this.file, old);
    this.reopen();
    // nginx's workers may still write a few lines to the old file until they reopen.
    await new Promise((r) => setTimeout(r, this.opts.pollMs));
    await this.readFrom(old);
    this.offset = 0;
    this.partial = '';
  }

  private async readFrom(file: string): Promise<void> {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return;
    }
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return;
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      const text = this.partial + buf.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line) this.onLine(line);
    } finally {
      await fh.close();
    }
  }
}
