import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeOfTimeUuid } from '../../platform/timeuuid.ts';
import { notificationsFor, splitFirstPage, type GoLive } from './fanout.ts';
import { eventIdOf, notificationIdOf } from './ids.ts';

const goLive: GoLive = {
  streamId: 's1',
  startedAt: 1_700_000_000_123,
  streamerId: 'alice',
  streamerName: 'Alice',
  title: 'hi',
};

describe('notification ids', () => {
  it('are the same for the same (stream, start, recipient) and differ otherwise', () => {
    const a = notificationIdOf('s1', goLive.startedAt, 'bob');
    assert.equal(notificationIdOf('s1', goLive.startedAt, 'bob'), a);
    const others = [
      notificationIdOf('s1', goLive.startedAt, 'carol'),
      notificationIdOf('s2', goLive.startedAt, 'bob'),
      notificationIdOf('s1', goLive.startedAt + 1, 'bob'),
    ];
    assert.equal(new Set([a, ...others]).size, 4);
  });

  it('are timeuuids of the go-live time, so an inbox sorts by it and the id names its expiry', () => {
    const id = notificationIdOf('s1', goLive.startedAt, 'bob');
    assert.equal(timeOfTimeUuid(id), goLive.startedAt);
    assert.match(eventIdOf(id), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(eventIdOf(id), eventIdOf(id));
  });

  it('never change: a fan-out resumed by a newer notifier must name what the older one named', () => {
    const pinned = [
      ['s1', 1_700_000_000_123, 'bob', '04c284b0-833b-11ee-8d67-6650fc4cc8ad', '635bfae6-194f-5a64-9877-6b5c63e223ce'],
      [
        'stream_é',
        1_764_110_000_999,
        'ü-ser',
        'bf0c2770-ca4e-11f0-8fbe-d79e103fb0b6',
        '5b4c7077-1ce3-5d2d-9546-1d00d93cfc4d',
      ],
    ] as const;
    for (const [streamId, startedAt, recipient, notificationId, eventId] of pinned) {
      assert.equal(notificationIdOf(streamId, startedAt, recipient), notificationId);
      assert.equal(eventIdOf(notificationId), eventId);
      const [n] = notificationsFor({ ...goLive, streamId, startedAt }, [recipient], 1);
      assert.deepEqual([n!.notificationId, n!.eventId], [notificationId, eventId]);
    }
  });

  it('no two of 100,000 recipients of one go-live share an id', () => {
    const ids = new Set(Array.from({ length: 100_000 }, (_, i) => notificationIdOf('s1', goLive.startedAt, `u${i}`)));
    assert.equal(ids.size, 100_000);
  });
});

describe('fan-out', () => {
  it('one NotificationCreated per recipient, keyed by the recipient', () => {
    const out = notificationsFor(goLive, ['bob', 'carol'], 5);
    assert.deepEqual(
      out.map((n) => [n.recipientId, n.kind, n.streamerName, n.occurredAt]),
      [
        ['bob', 'STREAM_WENT_LIVE', 'Alice', 5],
        ['carol', 'STREAM_WENT_LIVE', 'Alice', 5],
      ],
    );
    assert.deepEqual(notificationsFor(goLive, ['bob'], 99)[0]!.notificationId, out[0]!.notificationId);
  });

  it('a first page fuller than the inline limit continues in the background after the last one notified', () => {
    assert.deepEqual(splitFirstPage(['a', 'b'], 2), { inline: ['a', 'b'], continueAfter: null });
    assert.deepEqual(splitFirstPage(['a', 'b', 'c'], 2), { inline: ['a', 'b'], continueAfter: 'b' });
  });
});
