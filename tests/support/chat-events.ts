import { randomUUID } from 'node:crypto';
import type { ChatEvent, ChatEventPayload } from '../../schemas/generated/events.ts';
import { TimeUuidGenerator } from '../../platform/timeuuid.ts';

/** Builders of valid chat events for specs that publish straight to the topic, as a gateway would. */
const ids = new TimeUuidGenerator();

export const chatEvents = {
  event: (streamId: string, payload: ChatEventPayload, occurredAt = Date.now()): ChatEvent => ({
    eventId: randomUUID(),
    occurredAt,
    streamId,
    payload,
  }),
  sent: (streamId: string, o: { userId: string; content: string; at?: number; badges?: string[] }): ChatEvent => {
    const at = o.at ?? Date.now();
    return chatEvents.event(
      streamId,
      {
        type: 'ChatMessageSent',
        // A fresh generator per instant: the shared one would run ahead of a past `at`.
        messageId: o.at === undefined ? ids.next(at) : new TimeUuidGenerator().next(at),
        userId: o.userId,
        username: o.userId.toUpperCase(),
        badges: o.badges ?? [],
        content: o.content,
        color: null,
      },
      at,
    );
  },
};

export const messageIdOf = (e: ChatEvent): string => {
  if (e.payload.type !== 'ChatMessageSent') throw new Error(`not a message: ${e.payload.type}`);
  return e.payload.messageId;
};
