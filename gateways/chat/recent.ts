import type { ArchivedMessage } from '../../domain/chat/history.ts';

/**
 * One stream's most recent messages on this gateway, in topic order (the order every viewer saw
 * them live), minus deleted ones. It answers "the last 50" on join and "everything after the
 * message I saw last" on reconnect without a store read, and covers what the archiver has not
 * written yet. Older messages come from the archive and are merged in front.
 */
const DELETED_REMEMBERED = 1000;

export class RecentMessages {
  private items: ArchivedMessage[] = [];
  private readonly ids = new Set<string>();
  /** Ids deleted while held or recently: an archive read that raced the deletion must not bring one back. */
  private readonly deleted = new Set<string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(line: ArchivedMessage): void {
    if (this.ids.has(line.messageId) || this.deleted.has(line.messageId)) return;
    this.items.push(line);
    this.ids.add(line.messageId);
    this.trim();
  }

  remove(messageId: string): void {
    this.deleted.add(messageId);
    if (this.deleted.size > DELETED_REMEMBERED) this.deleted.delete(this.deleted.values().next().value!);
    if (!this.ids.delete(messageId)) return;
    this.items = this.items.filter((m) => m.messageId !== messageId);
  }

  last(n: number): ArchivedMessage[] {
    return this.items.slice(-n);
  }

  /** Everything after `messageId`, or undefined when it is not held here. */
  after(messageId: string): ArchivedMessage[] | undefined {
    if (!this.ids.has(messageId)) return undefined;
    return this.items.slice(this.items.findIndex((m) => m.messageId === messageId) + 1);
  }

  /**
   * Archived messages (oldest first) that this buffer does not hold, put in front of what it holds.
   * What the buffer holds keeps its topic order; the archive only adds what is older.
   */
  withArchived(archived: ArchivedMessage[]): ArchivedMessage[] {
    return [...archived.filter((m) => !this.ids.has(m.messageId) && !this.deleted.has(m.messageId)), ...this.items];
  }

  /** Fills the buffer from the front with archived messages it does not hold, up to capacity. */
  prependArchived(archived: ArchivedMessage[]): void {
    this.items = this.withArchived(archived).slice(-this.capacity);
    this.ids.clear();
    for (const m of this.items) this.ids.add(m.messageId);
  }

  private trim(): void {
    while (this.items.length > this.capacity) this.ids.delete(this.items.shift()!.messageId);
  }
}
