import type { ChatEvent } from '../../schemas/generated/events.ts';

/**
 * A stream's moderation state, per user: banned, timed out until, moderator. Each is a
 * last-writer-wins cell stamped with the event's time in microseconds, which is also the
 * Cassandra write time the archiver gives it (`USING TIMESTAMP`). So a gateway can merge what it
 * folded from the topic with what it read from Cassandra in any order and get the same answer as
 * the archiver: the newer event wins, and on a tie the greater value, as Cassandra breaks ties.
 */
export type ModerationColumn = 'banned' | 'timeout_until' | 'moderator';

export interface ModerationEffect {
  streamId: string;
  userId: string;
  column: ModerationColumn;
  /** Booleans for banned/moderator; epoch ms for timeout_until (0: none). */
  value: boolean | number;
  /** Event time in microseconds. */
  at: number;
}

/** What a chat event does to moderation state; the one definition gateways and the archiver share. */
export function moderationEffects(event: ChatEvent): ModerationEffect[] {
  const p = event.payload;
  const at = event.occurredAt * 1000;
  const fx = (userId: string, column: ModerationColumn, value: boolean | number): ModerationEffect => ({
    streamId: event.streamId,
    userId,
    column,
    value,
    at,
  });
  switch (p.type) {
    case 'ChatMessageSent':
    case 'ChatMessageDeleted':
      return [];
    case 'UserTimedOut':
      return [fx(p.userId, 'timeout_until', event.occurredAt + p.durationSeconds * 1000)];
    case 'UserBanned':
      return [fx(p.userId, 'banned', true)];
    case 'UserUnbanned':
      return [fx(p.userId, 'banned', false), fx(p.userId, 'timeout_until', 0)];
    case 'ModeratorAdded':
      return [fx(p.userId, 'moderator', true)];
    case 'ModeratorRemoved':
      return [fx(p.userId, 'moderator', false)];
    default: {
      const _exhaustive: never = p;
      return _exhaustive;
    }
  }
}

interface Cell {
  value: boolean | number;
  at: number;
}

export interface ModerationView {
  isModerator(userId: string): boolean;
  isBanned(userId: string): boolean;
  /** Epoch ms the user's timeout ends, 0 if none was ever set. */
  timeoutUntil(userId: string): number;
}

export class ModerationState implements ModerationView {
  private readonly users = new Map<string, Partial<Record<ModerationColumn, Cell>>>();

  apply(effect: ModerationEffect): void {
    const cells = this.users.get(effect.userId) ?? {};
    const old = cells[effect.column];
    if (!old || effect.at > old.at || (effect.at === old.at && Number(effect.value) > Number(old.value))) {
      cells[effect.column] = { value: effect.value, at: effect.at };
      this.users.set(effect.userId, cells);
    }
  }

  isModerator(userId: string): boolean {
    return this.users.get(userId)?.moderator?.value === true;
  }

  isBanned(userId: string): boolean {
    return this.users.get(userId)?.banned?.value === true;
  }

  timeoutUntil(userId: string): number {
    const v = this.users.get(userId)?.timeout_until?.value;
    return typeof v === 'number' ? v : 0;
  }
}
