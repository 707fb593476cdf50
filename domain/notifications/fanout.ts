import type { NotificationCreated } from '../../schemas/generated/events.ts';
import { eventIdOf, notificationIdsOf } from './ids.ts';

/**
 * The notifier's pure core. A go-live is what every follower is told about; its fan-out is
 * identified by (stream, start) alone, so the same go-live always fans out to the same ids.
 */
export interface GoLive {
  streamId: string;
  startedAt: number;
  streamerId: string;
  streamerName: string;
  title: string;
}

export const jobIdOf = (g: Pick<GoLive, 'streamId' | 'startedAt'>): string => `${g.streamId}@${g.startedAt}`;

export function notificationsFor(goLive: GoLive, recipients: string[], now: number): NotificationCreated[] {
  const idOf = notificationIdsOf(goLive.streamId, goLive.startedAt);
  return recipients.map((recipientId) => {
    const notificationId = idOf(recipientId);
    return {
      eventId: eventIdOf(notificationId),
      occurredAt: now,
      recipientId,
      notificationId,
      kind: 'STREAM_WENT_LIVE',
      streamId: goLive.streamId,
      streamerId: goLive.streamerId,
      streamerName: goLive.streamerName,
      title: goLive.title,
    };
  });
}

/**
 * How a go-live's first page splits: at most `inlineMax` followers are notified at once, in the
 * lifecycle handler (a small streamer's whole fan-out); when the page came back fuller than that,
 * the rest goes to the background lane, continuing after the last follower notified inline.
 */
export function splitFirstPage(
  followerIds: string[],
  inlineMax: number,
): { inline: string[]; continueAfter: string | null } {
  if (followerIds.length <= inlineMax) return { inline: followerIds, continueAfter: null };
  const inline = followerIds.slice(0, inlineMax);
  return { inline, continueAfter: inline[inline.length - 1] ?? null };
}
