import type { NotificationCreated } from '../../schemas/generated/events.ts';
import { timeOfTimeUuid } from '../../platform/timeuuid.ts';

/**
 * Frames the push gateway sends (JSON text; clients send nothing but pings):
 *   {"type": "ready", "user_id"}                          once the socket is subscribed
 *   {"type": "notification", "notification": {...}}       the API's notification shape
 * A notification can arrive twice (a re-sent fan-out page reaching another instance's window);
 * its `notification_id` is stable, so clients drop what they have seen.
 */
export function notificationFrame(n: NotificationCreated): string {
  return JSON.stringify({
    type: 'notification',
    notification: {
      notification_id: n.notificationId,
      kind: n.kind.toLowerCase(),
      stream_id: n.streamId,
      streamer: { user_id: n.streamerId, username: n.streamerName },
      title: n.title,
      created_at: new Date(timeOfTimeUuid(n.notificationId)).toISOString(),
      read: false,
    },
  });
}

export const readyFrame = (userId: string): string => JSON.stringify({ type: 'ready', user_id: userId });

/**
 * Remembers the last `capacity` notification ids pushed by this process, so a page the notifier
 * re-sent after a crash is not pushed a second time to sockets here.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** True the first time an id is offered (while it is remembered). */
  firstTime(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
