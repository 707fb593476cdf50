import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeUuidGenerator, isTimeUuid, minTimeUuid, timeOfTimeUuid } from './timeuuid.ts';

describe('time-based UUIDs', () => {
  const seed = Buffer.from('0102020405060708', 'hex');

  it('encodes the time as RFC 4122 v1 and reads it back', () => {
    const id = new TimeUuidGenerator(seed).next(Date.UTC(2026, 1, 2, 10, 15, 30, 123));
    assert.ok(isTimeUuid(id), id);
    assert.equal(timeOfTimeUuid(id), Date.UTC(2026, 1, 2, 10, 15, 30, 123));
    // Checked against cassandra-driver's TimeUuid.fromDate for the same instant, node and clock sequence.
    assert.equal(
      id,
      '1a0d51b0-0020-11f1-8102-030405060708',
      'version 1, variant 10, the multicast bit set on the node',
    );
  });

  it('is strictly increasing even when the clock stands still or steps back', () => {
    const g = new TimeUuidGenerator(seed);
    const ids = [g.next(1000), g.next(1000), g.next(999), g.next(1001)];
    const ticks = ids.map((id) => BigInt(`0x${id.slice(15, 18)}${id.slice(9, 13)}${id.slice(0, 8)}`));
    for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i]! > ticks[i - 1]!, `${ids[i]} after ${ids[i - 1]}`);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(timeOfTimeUuid(ids[2]!), 1000, 'ran ahead of a clock that stepped back');
  });

  it('two generators never mint the same id for the same instant', () => {
    assert.notEqual(new TimeUuidGenerator().next(5), new TimeUuidGenerator().next(5));
  });

  it('refuses ids that are not time-based UUIDs', () => {
    assert.equal(isTimeUuid('3e6a8c00-f5e1-41f0-8000-0123456789ab'), false, 'version 4');
    assert.equal(isTimeUuid('msg_123'), false);
    assert.throws(() => timeOfTimeUuid('nope'), TypeError);
  });

  it('names the lowest id of a millisecond, a time to page chat by', () => {
    const at = Date.UTC(2026, 11, 7, 15, 0, 0, 123);
    const min = minTimeUuid(at);
    assert.ok(isTimeUuid(min));
    assert.equal(timeOfTimeUuid(min), at);
    assert.equal(timeOfTimeUuid(new TimeUuidGenerator().next(at)), at);
  });
});
