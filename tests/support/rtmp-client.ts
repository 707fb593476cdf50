import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { waitFor } from './wait.ts';

/**
 * A raw RTMP client for specs that must send what no encoder would (commands off the publish
 * path, oversized chunks, mutated handshakes), over TCP or TLS, from a chosen local address
 * (127.0.0.2 is loopback but not in ingest's default pull allow-list: a "public" peer).
 *
 * Handshake: C0 (version 3) + C1 (1536 bytes) -> S0 + S1 + S2 (3073 bytes) -> C2 (echo of S1).
 * Chunk (RTMP 1.0, 5.3.1): basic header fmt(2 bits) | chunk stream id(6 bits, 2..63); for fmt 0
 * a message header of timestamp(3) | message length(3) | type id(1) | message stream id(4, LE);
 * then up to chunk-size bytes of payload. A longer message continues in fmt 3 chunks (basic
 * header only). AMF0 (amf0-file-format-specification): number 0x00 + double, boolean 0x01 + byte,
 * string 0x02 + u16 length, object 0x03 + (u16 key, value)* + 00 00 09, null 0x05.
 */
export type Amf = number | boolean | string | null | { [key: string]: Amf };

export function amf0(value: Amf): Buffer {
  if (value === null) return Buffer.from([0x05]);
  if (typeof value === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(value, 1);
    return b;
  }
  if (typeof value === 'boolean') return Buffer.from([0x01, value ? 1 : 0]);
  if (typeof value === 'string') return Buffer.concat([Buffer.from([0x02]), shortString(value)]);
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, v] of Object.entries(value)) parts.push(shortString(k), amf0(v));
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return Buffer.concat(parts);
}

const shortString = (s: string): Buffer => {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
};

export interface ChunkOptions {
  csid?: number;
  type: number;
  streamId?: number;
  timestamp?: number;
  /** The sender's chunk size (128 until it sends Set Chunk Size). */
  chunkSize?: number;
  /** The length the header declares; the body's own length unless set. */
  declaredLength?: number;
}

/** One message as chunks: a fmt 0 chunk, then fmt 3 chunks for the rest. */
export function chunks(body: Buffer, o: ChunkOptions): Buffer {
  const csid = o.csid ?? 3;
  const size = o.chunkSize ?? 128;
  const header = Buffer.alloc(12);
  header[0] = csid & 0x3f;
  header.writeUIntBE(o.timestamp ?? 0, 1, 3);
  header.writeUIntBE(o.declaredLength ?? body.length, 4, 3);
  header[7] = o.type;
  header.writeUInt32LE(o.streamId ?? 0, 8);
  const out = [header, body.subarray(0, size)];
  for (let at = size; at < body.length; at += size)
    out.push(Buffer.from([0xc0 | (csid & 0x3f)]), body.subarray(at, at + size));
  return Buffer.concat(out);
}

export function command(name: string, transactionId: number, args: Amf[], o: Partial<ChunkOptions> = {}): Buffer {
  const body = Buffer.concat([amf0(name), amf0(transactionId), ...args.map(amf0)]);
  return chunks(body, { ...o, type: 20 });
}

export function setChunkSize(size: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32BE(size >>> 0);
  return chunks(body, { csid: 2, type: 1 });
}

export const MEDIA_TYPES = new Set([8, 9, 22]);

export class RtmpTestClient {
  private readonly parts: Buffer[] = [];
  private bytes = 0;
  private closedFlag = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.parts.push(d);
      this.bytes += d.length;
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        resolve();
      }),
    );
  }

  /** Connected (for TLS: the TLS handshake done, any certificate accepted), or closed if refused. */
  static open(port: number, opts: { localAddress?: string; tls?: boolean } = {}): Promise<RtmpTestClient> {
    const where = { host: '127.0.0.1', port, localAddress: opts.localAddress };
    return new Promise((resolve) => {
      const socket = opts.tls
        ? tlsConnect({ ...where, rejectUnauthorized: false }, () => resolve(client))
        : tcpConnect(where, () => resolve(client));
      const client = new RtmpTestClient(socket);
      void client.closed.then(() => resolve(client));
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  get received(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** What the server sent, as text: AMF strings (status codes) show up as they are. */
  text(): string {
    return this.received.toString('latin1');
  }

  /** Writes and waits until the socket took it (or it closed). */
  write(data: Buffer): Promise<void> {
    if (this.closedFlag || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.write(data, () => resolve());
      void this.closed.then(() => resolve());
    });
  }

  /** C0+C1, then C2 once S0+S1+S2 are in; false if the server closed instead. */
  async handshake(): Promise<boolean> {
    const c1 = randomBytes(1536);
    c1.writeUInt32BE(0, 0);
    c1.writeUInt32BE(0, 4);
    await this.write(Buffer.concat([Buffer.from([3]), c1]));
    const ok = await this.until(() => this.bytes >= 3073);
    if (!ok) return false;
    await this.write(this.received.subarray(1, 1537));
    return true;
  }

  /** connect, then the publishing sequence ffmpeg sends; true once the server says Publish.Start. */
  async publish(key: string, app = 'live'): Promise<boolean> {
    await this.write(
      Buffer.concat([
        command('connect', 1, [{ app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1/${app}` }]),
        command('releaseStream', 2, [null, key]),
        command('FCPublish', 3, [null, key]),
        command('createStream', 4, [null]),
        command('publish', 5, [null, key, 'live'], { csid: 8, streamId: 1 }),
      ]),
    );
    return this.until(() => this.text().includes('NetStream.Publish.Start'));
  }

  /** Waits for a condition on what came back; false if the socket closed first. */
  async until(cond: () => boolean, deadlineMs = 15_000): Promise<boolean> {
    return waitFor(
      'the server to answer or close',
      () => (cond() ? true : this.closedFlag ? 'closed' : false),
      deadlineMs,
    ).then((r) => r === true || cond());
  }

  /** Waits until the server closes the connection (the deadline only turns a hang into a failure). */
  async serverCloses(deadlineMs = 15_000): Promise<void> {
    await waitFor('the server to close the connection', () => this.closedFlag, deadlineMs);
  }

  /** The messages the server sent after its handshake (S0+S1+S2), for a spec to look for media. */
  messages(): Array<{ type: number; body: Buffer }> {
    return parseChunks(this.received.subarray(3073));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A reader for what node-rtsp-rtmp-server writes: fmt 0-3 chunks, its Set Chunk Size honoured. */
export function parseChunks(buf: Buffer): Array<{ type: number; body: Buffer }> {
  const out: Array<{ type: number; body: Buffer }> = [];
  const streams = new Map<number, { length: number; type: number; parts: Buffer[]; got: number }>();
  let chunkSize = 128;
  let pos = 0;
  try {
    while (pos < buf.length) {
      const fmt = buf[pos]! >> 6;
      let csid = buf[pos]! & 0x3f;
      let p = pos + 1;
      if (csid === 0) csid = buf[p++]! + 64;
      else if (csid === 1) {
        csid = buf[p]! + buf[p + 1]! * 256 + 64;
        p += 2;
      }
      const s = streams.get(csid) ?? { length: 0, type: 0, parts: [], got: 0 };
      let ts = 0;
      if (fmt <= 2) {
        ts = buf.readUIntBE(p, 3);
        p += 3;
      }
      if (fmt <= 1) {
        s.length = buf.readUIntBE(p, 3);
        s.type = buf[p + 3]!;
        p += 4;
      }
      if (fmt === 0) p += 4;
      if (fmt <= 2 && ts === 0xffffff) p += 4;
      const n = Math.min(chunkSize, s.length - s.got);
      if (p + n > buf.length) break;
      s.parts.push(buf.subarray(p, p + n));
      s.got += n;
      pos = p + n;
      if (s.got >= s.length) {
        const body = Buffer.concat(s.parts);
        out.push({ type: s.type, body });
        if (s.type === 1 && body.length >= 4) chunkSize = body.readUInt32BE(0) & 0x7fffffff;
        s.parts = [];
        s.got = 0;
      }
      streams.set(csid, s);
    }
  } catch {
    // A cut-off header at the end: what came before is complete.
  }
  return out;
}
