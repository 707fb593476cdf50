import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArchivedMessage } from '../../domain/chat/history.ts';
import { RecentMessages } from './recent.ts';

const line = (id: string, sentAt = 0): ArchivedMessage => ({
  messageId: id,
  userId: 'u',
  username: 'U',
  badges: [],
  content: id,
  color: null,
  sentAt,
});
const ids = (lines: ArchivedMessage[] | undefined): string[] | undefined => lines?.map((l) => l.messageId);

describe('recent messages of a stream', () => {
  it('keeps the newest up to capacity, in the order they came, once each', () => {
    const r = new RecentMessages(3);
    for (const id of ['a', 'b', 'a', 'c', 'd']) r.push(line(id));
    assert.deepEqual(ids(r.last(10)), ['b', 'c', 'd']);
    assert.deepEqual(ids(r.last(2)), ['c', 'd']);
  });

  it('answers "after the one I saw last" exactly, or not at all when it does not hold it', () => {
    const r = new RecentMessages(10);
    for (const id of ['a', 'b', 'c']) r.push(line(id));
    assert.deepEqual(ids(r.after('a')), ['b', 'c']);
    assert.deepEqual(ids(r.after('c')), []);
    assert.equal(r.after('zz'), undefined);
  });

  it('drops a deleted message, and never takes it back from a late archive read or a redelivery', () => {
    const r = new RecentMessages(10);
    for (const id of ['a', 'b']) r.push(line(id));
    r.remove('a');
    r.remove('old');
    r.push(line('a'));
    r.prependArchived([line('old'), line('older')]);
    assert.deepEqual(ids(r.last(10)), ['older', 'b']);
  });

  it('puts archived messages it does not hold in front of what it holds, keeping topic order', () => {
    const r = new RecentMessages(4);
    // Topic order differs from time order here (two gateways' clocks): the buffer keeps topic order.
    r.push(line('y', 20));
    r.push(line('x', 10));
    assert.deepEqual(ids(r.withArchived([line('v', 1), line('w', 2), line('x', 10)])), ['v', 'w', 'y', 'x']);
    r.prependArchived([line('t', 0), line('u', 0), line('v', 1), line('w', 2), line('x', 10)]);
    assert.deepEqual(ids(r.last(10)), ['v', 'w', 'y', 'x'], 'capacity keeps the newest');
  });
});
