import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationsFor } from '../../domain/notifications/fanout.ts';
import { RecentIds, notificationFrame } from './protocol.ts';

describe('push protocol', () => {
  it('a notification frame carries the API shape, dated by the go-live', () => {
    const [n] = notificationsFor(
      {
        streamId: 's1',
        startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
        streamerId: 'alice',
        streamerName: 'Alice',
        title: 'hi',
      },
      ['bob'],
      0,
    );
    assert.deepEqual(JSON.parse(notificationFrame(n!)), {
      type: 'notification',
      notification: {
        notification_id: n!.notificationId,
        kind: 'stream_went_live',
        stream_id: 's1',
        streamer: { user_id: 'alice', username: 'Alice' },
        title: 'hi',
        created_at: '2026-01-02T03:04:05.000Z',
        read: false,
      },
    });
  });

  it('RecentIds lets an id through once and forgets the oldest past its capacity', () => {
    const r = new RecentIds(2);
    assert.equal(r.firstTime('a'), true);
    assert.equal(r.firstTime('a'), false);
    r.firstTime('b');
    r.firstTime('c');
    assert.equal(r.firstTime('a'), true, 'forgotten after two newer ones');
  });
});
