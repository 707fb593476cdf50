/**
 * Frames for fuzzing the chat gateway's socket: a seeded generator (the same seed gives the same
 * frames, so a failure can be replayed) of random and mutated JSON, binary frames, bytes that are
 * not UTF-8, oversize frames, unknown types and prototype-named keys, and what the gateway must do
 * with each one, worked out from its bytes alone (uWS's hard limit, then binary, then the frame
 * limit, then UTF-8, then an answer frame).
 */
export interface FuzzCase {
  kind: string;
  data: Buffer;
  binary: boolean;
}

export type Expected = { close: number; reason?: string } | { answer: true };

/** mulberry32: small, fast and good enough to pick frames. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID: Array<Record<string, unknown>> = [
  { type: 'message', content: 'hello there', nonce: 'n1' },
  { type: 'message', content: 'colourful', color: '#A1B2C3' },
  { type: 'delete', message_id: '00000000-0000-1000-8000-000000000000' },
  { type: 'timeout', user_id: 'someone', duration_seconds: 60, reason: 'why' },
  { type: 'ban', user_id: 'someone', reason: null },
  { type: 'unban', user_id: 'someone' },
  { type: 'add_moderator', user_id: 'someone' },
  { type: 'remove_moderator', user_id: 'someone' },
];

const TRICKY = [
  '{"type":"__proto__"}',
  '{"type":"constructor","content":"x"}',
  '{"type":"toString"}',
  '{"__proto__":{"type":"message","content":"polluted"}}',
  '{"type":"message","content":"x","__proto__":{"admin":true}}',
  '{"type":"message","content":{"toString":"boom"}}',
  '{"type":"message","content":["a"]}',
  '{"type":"message","content":"ok","color":"#12345g"}',
  '{"type":"message","content":"\\ud800"}',
  '{"type":"message","content":"\\u202eevil\\u202c"}',
  '{"type":"timeout","user_id":"x","duration_seconds":1e309}',
  '{"type":"timeout","user_id":"x","duration_seconds":-1}',
  '{"type":"timeout","user_id":"x","duration_seconds":1.5}',
  '{"type":"message","content":"dup","type":"ban","user_id":"x"}',
  'null',
  'true',
  '"message"',
  '12345678901234567890',
  '',
  ' ',
  '{}',
  `${'['.repeat(1500)}${']'.repeat(1500)}`,
  `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`,
];

const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '{', '}', '[', ']', ':', ',', '\u0000', '\u0007', '\n', '\u202e'];
const ALPHABET_WIDE = ['é', '漢', '😀', '\u200b', '\ufeff', '\ud800', '\udc00'];

export class FrameFuzzer {
  constructor(private readonly rand: () => number) {}

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private text(max: number): string {
    let s = '';
    const n = this.int(max + 1);
    for (let i = 0; i < n; i++) {
      const r = this.rand();
      s +=
        r < 0.6
          ? String.fromCharCode(32 + this.int(95))
          : r < 0.8
            ? this.pick(ALPHABET)
            : r < 0.95
              ? this.pick(ALPHABET_WIDE)
              : String.fromCodePoint(this.int(0x10ffff));
    }
    return s;
  }

  private value(depth = 0): unknown {
    switch (this.int(depth > 2 ? 6 : 8)) {
      case 0:
        return this.text(40);
      case 1:
        return this.pick([0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e21, Number.MAX_SAFE_INTEGER]);
      case 2:
        return this.pick([null, true, false]);
      case 3:
        return 'x'.repeat(this.pick([0, 1, 64, 65, 128, 129, 500, 501, 4000]));
      case 4:
        return this.pick(['#abcdef', '#ABCDEF', 'red', '#fff', '', ' #abcdef']);
      case 5:
        return this.pick(['message', 'ban', 'delete', 'unban', 'timeout', 'add_moderator', 'dance', '']);
      case 6:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.text(8), this.value(depth + 1)]));
    }
  }

  /** A valid frame with one to three fields replaced, added or removed. */
  private shaped(): string {
    const frame: Record<string, unknown> = { ...this.pick(VALID) };
    const keys = ['type', 'content', 'color', 'nonce', 'user_id', 'message_id', 'duration_seconds', 'reason', 'extra'];
    for (let i = 0, n = 1 + this.int(3); i < n; i++) {
      const key = this.pick(keys);
      if (this.rand() < 0.2) delete frame[key];
      else frame[key] = this.value();
    }
    return JSON.stringify(frame);
  }

  /** A valid frame's text with one to three character-level edits. */
  private mutated(): string {
    let s = JSON.stringify(this.pick(VALID));
    for (let i = 0, n = 1 + this.int(3); i < n; i++) {
      const at = this.int(s.length + 1);
      switch (this.int(4)) {
        case 0:
          s = s.slice(0, at) + s.slice(at + 1 + this.int(4));
          break;
        case 1:
          s = s.slice(0, at) + this.text(3) + s.slice(at);
          break;
        case 2:
          s = s.slice(0, at) + this.pick(ALPHABET) + s.slice(at + 1);
          break;
        default: {
          const from = this.int(s.length);
          s = s.slice(0, at) + s.slice(from, from + this.int(12)) + s.slice(at);
        }
      }
    }
    return s;
  }

  private bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }

  next(): FuzzCase {
    const r = this.rand();
    const text = (kind: string, s: string): FuzzCase => ({ kind, data: Buffer.from(s, 'utf8'), binary: false });
    if (r < 0.3) return text('mutated', this.mutated());
    if (r < 0.55) return text('shaped', this.shaped());
    if (r < 0.65) return text('tricky', this.pick(TRICKY));
    if (r < 0.72) return text('garbage', this.text(200));
    if (r < 0.78) return text('unknown type', JSON.stringify({ type: this.text(20), content: 'x' }));
    if (r < 0.84) return { kind: 'binary', data: this.bytes(this.int(80)), binary: true };
    if (r < 0.9) return { kind: 'not utf-8', data: this.bytes(1 + this.int(80)), binary: false };
    if (r < 0.96) {
      const content = 'o'.repeat(4100 + this.int(12_000));
      return text('oversize', JSON.stringify({ type: 'message', content }));
    }
    return text(
      'past the hard limit',
      JSON.stringify({ type: 'message', content: 'h'.repeat(17_000 + this.int(20_000)) }),
    );
  }
}

const isUtf8 = (b: Buffer): boolean => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};

/** What the gateway must do with a frame, given its frame limit and uWS's hard limit. */
export function expectedOf(c: FuzzCase, limits: { maxFrameBytes: number; hardMaxBytes: number }): Expected {
  if (c.data.length > limits.hardMaxBytes) return { close: 1006 };
  if (c.binary) return { close: 1003, reason: 'binary frames are not supported' };
  if (c.data.length > limits.maxFrameBytes) return { close: 1009, reason: 'frame too large' };
  if (!isUtf8(c.data)) return { close: 1006 };
  return { answer: true };
}

/** Whether a text frame is one a signed-in, non-moderator user may have accepted: a well-formed message. */
export function acceptable(text: string, contentOk: (content: string) => boolean): boolean {
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return false;
  const o = f as Record<string, unknown>;
  return (
    o.type === 'message' &&
    typeof o.content === 'string' &&
    o.content.length <= 4000 &&
    contentOk(o.content) &&
    (o.color === undefined || o.color === null || (typeof o.color === 'string' && /^#[0-9a-f]{6}$/i.test(o.color))) &&
    (o.nonce === undefined || (typeof o.nonce === 'string' && o.nonce.length <= 64))
  );
}
