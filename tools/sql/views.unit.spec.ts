import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCsv, formatTable } from './format.ts';
import { topicView, topicViewSql, typeView, typeViewsSql } from './views.ts';

describe('sql views', () => {
  it('names a view per topic and per event type', () => {
    assert.equal(topicView('live.chat.messages'), 'chat_messages');
    assert.equal(typeView('ChatMessageSent'), 'chat_message_sent');
    assert.equal(typeView('ViewerCountChanged'), 'viewer_count_changed');
    assert.equal(
      topicViewSql('/a', 'live.chat.messages'),
      `CREATE OR REPLACE VIEW "chat_messages" AS SELECT * FROM read_parquet('/a/topic=live.chat.messages/hour=*/*.parquet', union_by_name = true, hive_partitioning = true)`,
    );
  });

  it('gives each event type its rows, its fields under their own names', () => {
    const [sent, deleted] = typeViewsSql({
      topic: 'live.chat.messages',
      types: ['ChatMessageSent', 'ChatMessageDeleted'],
      columns: [
        'kafka_offset',
        'eventId',
        'streamId',
        'payload_type',
        'ChatMessageSent_content',
        'ChatMessageDeleted_messageId',
        'topic',
        'hour',
      ],
    });
    assert.equal(
      sent,
      `CREATE OR REPLACE VIEW "chat_message_sent" AS SELECT "kafka_offset", "eventId", "streamId", "topic", "hour", "ChatMessageSent_content" AS "content" FROM "chat_messages" WHERE "payload_type" = 'ChatMessageSent'`,
    );
    assert.match(
      deleted!,
      /"ChatMessageDeleted_messageId" AS "messageId" FROM "chat_messages" WHERE "payload_type" = 'ChatMessageDeleted'$/,
    );
    assert.deepEqual(
      typeViewsSql({ topic: 'live.viewer.heartbeats', types: ['ViewerHeartbeat'], columns: ['eventId'] }),
      [`CREATE OR REPLACE VIEW "viewer_heartbeat" AS SELECT * FROM "viewer_heartbeats"`],
    );
  });

  it('gives no type view of its own to a topic named like its record', () => {
    assert.deepEqual(
      typeViewsSql({ topic: 'live.viewer.playback', types: ['ViewerPlayback'], columns: ['eventId'] }),
      [],
    );
  });

  it('prints an aligned table (numbers to the right) and CSV', () => {
    assert.equal(
      formatTable(
        ['stream', 'n'],
        [
          ['sA', 12],
          ['sB', 3],
        ],
      ),
      ['stream   n', '------  --', 'sA      12', 'sB       3', '(2 rows)'].join('\n'),
    );
    assert.equal(formatCsv(['a', 'b'], [['x,y', null]]), 'a,b\n"x,y",');
  });
});
