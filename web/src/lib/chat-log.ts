/**
 * What the chat panel shows, folded from the chat gateway's frames (src/gateways/chat/protocol.ts).
 * Pure: the socket and the DOM live elsewhere.
 *
 * Every message has an id (a time-based UUID) and a reconnect asks for everything after the last
 * one seen (`?since=`), so the history frame of a reconnect can overlap what is already shown:
 * messages are kept once per id, in the order they first arrived (the topic's order).
 */
export interface ChatUser {
  user_id: string;
  username: string;
  badges: string[];
}

export interface ChatMessage {
  kind: 'message';
  message_id: string;
  user: ChatUser;
  content: string;
  color: string | null;
  timestamp: string;
  deleted: boolean;
}

export interface ChatNotice {
  kind: 'notice';
  id: string;
  text: string;
}

export type ChatEntry = ChatMessage | ChatNotice;

export type ServerFrame =
  | { type: 'history'; messages: Omit<ChatMessage, 'kind' | 'deleted'>[]; complete: boolean }
  | ({ type: 'message' } & Omit<ChatMessage, 'kind' | 'deleted'>)
  | { type: 'message_deleted'; message_id: string }
  | { type: 'user_timed_out'; user_id: string; until: string }
  | { type: 'user_banned'; user_id: string }
  | { type: 'user_unbanned'; user_id: string }
  | { type: 'moderator_added'; user_id: string }
  | { type: 'moderator_removed'; user_id: string }
  | { type: 'ack'; nonce: string; message_id?: string }
  | { type: 'error'; code: string; message: string; nonce?: string; retry_after_ms?: number; until?: string };

export class ChatLog {
  private readonly list: ChatEntry[] = [];
  private readonly byId = new Map<string, ChatMessage>();
  private readonly names = new Map<string, string>();
  private readonly moderators = new Set<string>();
  private notices = 0;
  /** The newest message id seen: where a reconnect resumes. */
  lastMessageId: string | undefined;

  constructor(private readonly capacity = 300) {}

  get entries(): readonly ChatEntry[] {
    return this.list;
  }

  isModerator(userId: string): boolean {
    return this.moderators.has(userId);
  }

  /** Folds one frame in; true when what is shown changed. Acks and errors are the caller's. */
  apply(frame: ServerFrame): boolean {
    switch (frame.type) {
      case 'history': {
        let changed = false;
        for (const m of frame.messages) changed = this.add(m) || changed;
        if (!frame.complete) this.notice('Some older messages were missed while you were away.');
        return changed || !frame.complete;
      }
      case 'message':
        return this.add(frame);
      case 'message_deleted': {
        const m = this.byId.get(frame.message_id);
        if (!m || m.deleted) return false;
        m.deleted = true;
        m.content = '';
        return true;
      }
      case 'user_timed_out':
        this.notice(`${this.nameOf(frame.user_id)} was timed out until ${clock(frame.until)}.`);
        return true;
      case 'user_banned':
        // As on other platforms, a banned user's messages leave the screen.
        for (const m of this.byId.values()) {
          if (m.user.user_id === frame.user_id) {
            m.deleted = true;
            m.content = '';
          }
        }
        this.notice(`${this.nameOf(frame.user_id)} was banned.`);
        return true;
      case 'user_unbanned':
        this.notice(`${this.nameOf(frame.user_id)} was unbanned.`);
        return true;
      case 'moderator_added':
        this.moderators.add(frame.user_id);
        this.notice(`${this.nameOf(frame.user_id)} is now a moderator.`);
        return true;
      case 'moderator_removed':
        this.moderators.delete(frame.user_id);
        this.notice(`${this.nameOf(frame.user_id)} is no longer a moderator.`);
        return true;
      case 'ack':
      case 'error':
        return false;
      default: {
        const _exhaustive: never = frame;
        return _exhaustive;
      }
    }
  }

  /** A line from the page itself (connection state, kind errors). */
  notice(text: string): void {
    this.push({ kind: 'notice', id: `notice-${++this.notices}`, text });
  }

  private add(m: Omit<ChatMessage, 'kind' | 'deleted'>): boolean {
    this.lastMessageId = m.message_id;
    if (this.byId.has(m.message_id)) return false;
    const entry: ChatMessage = { ...m, kind: 'message', deleted: false };
    this.byId.set(m.message_id, entry);
    this.names.set(m.user.user_id, m.user.username);
    if (m.user.badges.includes('moderator')) this.moderators.add(m.user.user_id);
    this.push(entry);
    return true;
  }

  private push(e: ChatEntry): void {
    this.list.push(e);
    while (this.list.length > this.capacity) {
      const old = this.list.shift()!;
      if (old.kind === 'message') this.byId.delete(old.message_id);
    }
  }

  private nameOf(userId: string): string {
    return this.names.get(userId) ?? userId;
  }
}

const clock = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
};

/** What a person reads when the chat refuses something (the codes of src/gateways/chat/errors.ts). */
export function chatErrorText(e: { code: string; message: string; retry_after_ms?: number; until?: string }): string {
  switch (e.code) {
    case 'rate_limited': {
      const s = Math.max(1, Math.ceil((e.retry_after_ms ?? 1000) / 1000));
      return `You're sending messages quickly — wait ${s} second${s === 1 ? '' : 's'} and try again.`;
    }
    case 'duplicate_message':
      return 'You just said that — try saying something new.';
    case 'timed_out':
      return e.until ? `You're timed out until ${clock(e.until)}.` : "You're timed out for now.";
    case 'banned':
      return "You've been banned from this chat.";
    case 'chat_disabled':
      return 'Chat is turned off for this stream.';
    case 'invalid_content':
      return `That message can't be sent: ${e.message}.`;
    case 'forbidden':
      return "You don't have permission to do that.";
    case 'unauthorized':
      return 'Sign in to chat.';
    case 'unavailable':
      return 'Chat is having trouble right now — try again in a moment.';
    default:
      return e.message || 'Something went wrong.';
  }
}
