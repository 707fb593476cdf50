import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expand, loadNamedSchemas } from '../../schemas/load.ts';
import { TOPICS } from '../../schemas/topics.ts';
import { archiveType, columnsOf, mergeColumns, type Column } from './columns.ts';

const named = loadNamedSchemas();
const typeOf = (record: string) => archiveType(expand(record, named));
const row = (columns: Column[], value: unknown) => Object.fromEntries(columns.map((c) => [c.name, c.get(value)]));

describe('archive columns', () => {
  it('flattens an envelope and its union payload: payload_type, then <Branch>_<field>', () => {
    const type = typeOf(TOPICS.chatMessages.valueRecord);
    const columns = columnsOf(type);
    const names = columns.map((c) => `${c.name} ${c.type}`);
    assert.deepEqual(names.slice(0, 11), [
      'eventId VARCHAR',
      'occurredAt TIMESTAMP',
      'streamId VARCHAR',
      'payload_type VARCHAR',
      'ChatMessageSent_messageId VARCHAR',
      'ChatMessageSent_userId VARCHAR',
      'ChatMessageSent_username VARCHAR',
      'ChatMessageSent_badges VARCHAR[]',
      'ChatMessageSent_content VARCHAR',
      'ChatMessageSent_color VARCHAR',
      'ChatMessageDeleted_messageId VARCHAR',
    ]);
    const value = type.fromBuffer(
      type.toBuffer({
        eventId: 'e1',
        occurredAt: 1_765_000_000_000,
        streamId: 's1',
        payload: { 'live.chat.UserTimedOut': { userId: 'u', actorId: 'm', durationSeconds: 60, reason: null } },
      }),
    );
    const r = row(columns, value);
    assert.equal(r.payload_type, 'UserTimedOut');
    assert.equal(r.occurredAt, 1_765_000_000_000);
    assert.equal(r.UserTimedOut_durationSeconds, 60);
    assert.equal(r.UserTimedOut_reason, null);
    assert.equal(r.ChatMessageSent_content, null, "another branch's columns are null");
  });

  it('maps enums to their symbol, nullable records to prefixed columns, maps and record arrays to JSON', () => {
    const vod = columnsOf(typeOf(TOPICS.vodRecordings.valueRecord));
    const types = Object.fromEntries(vod.map((c) => [c.name, c.type]));
    assert.equal(types.startedAt, 'TIMESTAMP');
    assert.equal(types.ladder_renditions, 'JSON');
    assert.equal(types.ladder_reason, 'VARCHAR');
    assert.equal(types.ladder_dropped, 'VARCHAR[]');
    assert.equal(types.thumbnail_width, 'INTEGER');
    const counts = columnsOf(typeOf(TOPICS.viewerCounts.valueRecord));
    const qualities = counts.find((c) => c.name === 'qualities')!;
    assert.equal(qualities.type, 'JSON');
    assert.equal(qualities.get({ qualities: { '720p': 3 } }), '{"720p":3}');
    const ladderless = row(vod, { ladder: null, thumbnail: null });
    assert.equal(ladderless.ladder_reason, null);
  });

  it('a field added by a newer schema is one more column; a known name keeps its place', () => {
    const v1: Column[] = [
      { name: 'a', type: 'VARCHAR', get: () => null },
      { name: 'b', type: 'INTEGER', get: () => null },
    ];
    const v2: Column[] = [
      ...v1.slice(0, 1),
      { name: 'b', type: 'BIGINT', get: () => null },
      { name: 'c', type: 'VARCHAR', get: () => null },
    ];
    assert.deepEqual(
      mergeColumns([v1, v2]).map((c) => `${c.name} ${c.type}`),
      ['a VARCHAR', 'b BIGINT', 'c VARCHAR'],
    );
  });
});
