import WebSocket from 'ws';
import { waitFor } from './wait.ts';

/**
 * A real WebSocket chat client for specs: connects as a browser would (optionally with an
 * Origin), keeps every frame it receives, and can misbehave on purpose (binary frames, bytes that
 * are not UTF-8, a socket that stops reading).
 */
export type Frame = Record<string, unknown> & { type: string };

export interface ChatMessageFrame extends Frame {
  type: 'message';
  message_id: string;
  user: { user_id: string; username: string; badges: string[] };
  content: string;
  color: string | null;
  timestamp: string;
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

export class ChatClient {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  /** What the client library last complained of (a frame it could not read, a reset). */
  error: Error | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.frames.push(JSON.parse(bytes.toString('utf8')) as Frame);
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', (err) => (this.error = err));
  }

  static connect(
    port: number,
    streamId: string,
    opts: { ticket?: string; since?: string; origin?: string; authorization?: string } = {},
  ): Promise<ChatClient> {
    const q = new URLSearchParams();
    if (opts.ticket) q.set('ticket', opts.ticket);
    if (opts.since) q.set('since', opts.since);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/streams/${encodeURIComponent(streamId)}/chat?${q}`, {
      ...(opts.origin && { origin: opts.origin }),
      ...(opts.authorization && { headers: { authorization: opts.authorization } }),
    });
    return new Promise((resolve, reject) => {
      const client = new ChatClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends raw bytes as one frame: `binary: false` makes a text frame of whatever the bytes are. */
  sendRaw(bytes: Buffer, binary: boolean): void {
    this.ws.send(bytes, { binary });
  }

  messages(): ChatMessageFrame[] {
    return this.frames.filter((f): f is ChatMessageFrame => f.type === 'message');
  }

  contents(): string[] {
    return this.messages().map((m) => m.content);
  }

  history(): { messages: ChatMessageFrame[]; complete: boolean } {
    const h = this.frames.find((f) => f.type === 'history');
    if (!h) throw new Error('no history frame');
    return h as unknown as { messages: ChatMessageFrame[]; complete: boolean };
  }

  next<T extends Frame = Frame>(what: string, match: (f: Frame) => boolean, from = 0, deadlineMs?: number): Promise<T> {
    return waitFor(what, () => this.frames.slice(from).find(match) as T | undefined, deadlineMs);
  }

  /** Sends a frame with a fresh nonce and resolves with the ack or error frame that answers it. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    const nonce = Math.random().toString(36).slice(2);
    this.send({ ...frame, nonce });
    return this.next(
      `answer to ${String(frame.type)}`,
      (f) => (f.type === 'ack' || f.type === 'error') && f.nonce === nonce,
    );
  }

  async waitClosed(deadlineMs?: number): Promise<{ code: number; reason: string }> {
    return waitFor('socket closed', () => this.closed, deadlineMs);
  }

  close(): void {
    if (!this.closed) this.ws.terminate();
  }
}

/** POST /api/v1/streams/:id/chat/tickets with a bearer token. */
export async function getTicket(
  port: number,
  streamId: string,
  token: string | undefined,
  origin?: string,
): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api/v1/streams/${encodeURIComponent(streamId)}/chat/tickets`, {
    method: 'POST',
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(origin && { origin }) },
  });
}
