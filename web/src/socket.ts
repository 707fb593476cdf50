import { backoffMs } from './lib/format.ts';

/**
 * A WebSocket that comes back: after a drop it reconnects with jittered backoff, asking `url()`
 * again each time (a fresh ticket, the latest resume point). `onClose` decides whether a close is
 * final (the server said the stream ended, or a refusal that retrying cannot fix).
 */
export interface SocketHandlers {
  url: () => Promise<string>;
  onOpen?: () => void;
  onFrame: (frame: unknown) => void;
  /** Return false to stop reconnecting. */
  onClose?: (code: number, attempt: number) => boolean;
}

export class LiveSocket {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;

  constructor(private readonly h: SocketHandlers) {
    void this.connect();
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(frame: unknown): boolean {
    if (!this.open) return false;
    this.ws!.send(JSON.stringify(frame));
    return true;
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, 'page closed');
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let url: string;
    try {
      url = await this.h.url();
    } catch {
      return this.retry(1006);
    }
    if (this.stopped) return;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.h.onOpen?.();
    };
    ws.onmessage = (e: MessageEvent<string>) => {
      try {
        this.h.onFrame(JSON.parse(e.data));
      } catch {
        /* not JSON: not ours */
      }
    };
    ws.onclose = (e) => {
      if (this.ws === ws) this.retry(e.code);
    };
  }

  private retry(code: number): void {
    if (this.stopped) return;
    const attempt = this.attempt++;
    if (this.h.onClose && !this.h.onClose(code, attempt)) return;
    this.timer = window.setTimeout(() => void this.connect(), backoffMs(attempt));
  }
}
