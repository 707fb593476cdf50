import type { ChatMessage } from './chat-log.ts';

/**
 * A recording's chat, replayed as its video plays: each message shows once the video reaches the
 * moment it was sent (the frame's program date time against the message's timestamp, both wall
 * clocks of the broadcast). Messages come from the chat history API in pages (the archive: a
 * message deleted during the broadcast stays deleted); a seek starts afresh from the new moment,
 * with the messages just before it for context. Pure: the panel (chat.ts) fetches and renders.
 */
export type ReplayMessage = Omit<ChatMessage, 'kind' | 'deleted'>;

export interface ReplayPage {
  messages: ReplayMessage[];
  /** Cursor for the page after this one; null at the end of the recording's chat. */
  next: string | null;
}

/** What the panel should do at a clock tick. */
export type ReplayStep =
  { kind: 'seek'; at: number } | { kind: 'more'; after: string } | { kind: 'show'; messages: ReplayMessage[] };

/** A jump of more than this (either way) between ticks is a seek, not playback. */
const SEEK_MS = 3000;
/** Fetch the next page once this few messages are still to come. */
const LOW_WATER = 20;

export class ChatReplay {
  private shown: ReplayMessage[] = [];
  private upcoming: ReplayMessage[] = [];
  private next: string | null = null;
  private clock: number | null = null;
  private loading = false;
  private seeking = false;

  constructor(private readonly keep = 150) {}

  /** The step for the frame at `at` (ms since the epoch) now on screen. */
  tick(at: number): ReplayStep {
    if (this.loading) return { kind: 'show', messages: this.shown };
    if (this.clock === null || Math.abs(at - this.clock) > SEEK_MS) {
      this.loading = true;
      this.seeking = true;
      this.clock = at;
      return { kind: 'seek', at };
    }
    this.clock = at;
    let i = 0;
    while (i < this.upcoming.length && Date.parse(this.upcoming[i]!.timestamp) <= at) i++;
    if (i > 0) this.shown = [...this.shown, ...this.upcoming.splice(0, i)].slice(-this.keep);
    if (this.next !== null && this.upcoming.length < LOW_WATER) {
      this.loading = true;
      return { kind: 'more', after: this.next };
    }
    return { kind: 'show', messages: this.shown };
  }

  /** After a seek: what was said just before the moment, and the first page from it on. */
  placed(before: ReplayMessage[], from: ReplayPage): void {
    this.shown = before.slice(-this.keep);
    this.upcoming = [...from.messages];
    this.next = from.next;
    this.loading = false;
    this.seeking = false;
  }

  /** The page a `more` step asked for. */
  extended(page: ReplayPage): void {
    const last = this.upcoming[this.upcoming.length - 1] ?? this.shown[this.shown.length - 1];
    const fresh = last ? page.messages.filter((m) => m.message_id !== last.message_id) : page.messages;
    this.upcoming.push(...fresh);
    this.next = page.next;
    this.loading = false;
  }

  /** A fetch failed: try again at a later tick from where it stood. */
  failed(): void {
    if (this.seeking) this.clock = null;
    this.loading = false;
    this.seeking = false;
  }
}
