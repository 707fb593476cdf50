import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A lean WebSocket client for load generators that mostly read: RFC 6455 framing straight off the
 * TCP stream, every socket reading into one shared buffer (net's `onread`, no Buffer per read),
 * and each text payload handed over as a view of that buffer, valid only during the call.
 *
 * Why not `ws`: with 10,000 readers on the same two cores as the server under test, `ws`'s
 * per-frame stream and event machinery cost the load generators more CPU than the gateway spent
 * sending, so latency measured the client's queue rather than the server's. This client answers
 * pings, reports closes, sends masked text frames, and checks the upgrade (101 and
 * Sec-WebSocket-Accept); no extensions, no fragmentation (neither server under test fragments).
 */
export interface ReaderHandlers {
  /** A text frame's payload; copy what you need before returning. */
  onText: (payload: Buffer) => void;
  /** Close frame, end of stream or error, once; `error` only when it failed. */
  onClose: (error?: Error) => void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const HEADER_END = Buffer.from('\r\n\r\n');

export class WsReader {
  private readonly socket: Socket;
  private readonly key = randomBytes(16).toString('base64');
  private open = false;
  private closed = false;
  /** Bytes kept between reads: the upgrade response so far, or a frame cut by the read. */
  private pending: Buffer | null = null;

  constructor(
    url: string,
    origin: string,
    private readonly on: ReaderHandlers,
  ) {
    const u = new URL(url);
    this.socket = connect({
      host: u.hostname,
      port: Number(u.port || 80),
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n) => (this.onData(READ_BUFFER, n), true) },
    });
    this.socket.on('connect', () => {
      this.socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\nOrigin: ${origin}\r\n\r\n`,
      );
    });
    this.socket.on('error', (err) => this.finish(err));
    this.socket.on('close', () => this.finish(this.open ? undefined : new Error('closed before the upgrade')));
  }

  sendText(text: string): void {
    this.write(0x1, Buffer.from(text, 'utf8'));
  }

  terminate(): void {
    this.socket.destroy();
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.on.onClose(error);
  }

  private onData(chunk: Buffer, n: number): void {
    let buf = chunk.subarray(0, n);
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = null;
    }
    let at = 0;
    if (!this.open) {
      const end = buf.indexOf(HEADER_END);
      if (end < 0) return void (this.pending = Buffer.from(buf));
      const head = buf.toString('latin1', 0, end);
      const accept = createHash('sha1')
        .update(this.key + GUID)
        .digest('base64');
      if (
        !/^HTTP\/1\.1 101 /.test(head) ||
        !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)
      ) {
        return this.finish(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      }
      this.open = true;
      at = end + HEADER_END.length;
    }
    while (at < buf.length) {
      const used = this.frame(buf, at);
      if (used === 0) {
        this.pending = Buffer.from(buf.subarray(at));
        return;
      }
      at += used;
      if (this.closed) return;
    }
  }

  /** Handles the frame at `at` and returns its length, or 0 when it is not all here yet. */
  private frame(buf: Buffer, at: number): number {
    if (buf.length - at < 2) return 0;
    const opcode = buf[at]! & 0x0f;
    const masked = (buf[at + 1]! & 0x80) !== 0;
    let length = buf[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (buf.length - at < 4) return 0;
      length = buf.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (buf.length - at < 10) return 0;
      length = Number(buf.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (masked) return (this.finish(new Error('the server masked a frame')), 0);
    const start = at + header;
    if (buf.length - start < length) return 0;
    const payload = buf.subarray(start, start + length);
    if (opcode === 0x1) this.on.onText(payload);
    else if (opcode === 0x9) this.write(0xa, Buffer.from(payload));
    else if (opcode === 0x8) this.finish();
    return header + length;
  }

  private write(opcode: number, payload: Buffer): void {
    if (this.closed) return;
    const n = payload.length;
    const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(header + 4 + n);
    frame[0] = 0x80 | opcode;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65_536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(n), 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, header);
    for (let i = 0; i < n; i++) frame[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }
}
