import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expand, loadNamedSchemas } from '../../schemas/load.ts';
import { TOPICS, type TopicKey } from '../../schemas/topics.ts';
import { checkStatements } from './check.ts';
import { loadStatements, splitStatements } from './statements.ts';

const named = loadNamedSchemas();
const schemaOf = (k: TopicKey) => expand(TOPICS[k].valueRecord, named);

describe('ksqlDB statements (checked against the Avro schemas, no server needed)', () => {
  it('declare every topic and use only fields the schemas have', () => {
    const statements = loadStatements({ TOPIC_PREFIX: '' });
    assert.ok(statements.length >= Object.keys(TOPICS).length + 5);
    assert.deepEqual(checkStatements(statements, schemaOf), []);
  });

  it('would catch a misspelt field, an unknown event type and an undeclared topic', () => {
    const statements = [
      ...loadStatements({ TOPIC_PREFIX: '' }).filter((s) => !s.sql.includes("'live.vod.recordings'")),
      {
        file: 'x.sql',
        sql: 'CREATE TABLE t AS SELECT streamId, MAX(peakViewer) AS p, LATEST_BY_OFFSET(payload->StreamWentLive->startedAtt) AS s, COUNT_DISTINCT(payload->Nope->x) AS n FROM viewer_counts GROUP BY streamId EMIT CHANGES;',
      },
    ];
    const problems = checkStatements(statements, schemaOf).join('\n');
    assert.match(problems, /column peakViewer is not in the schema/);
    assert.match(problems, /payload->StreamWentLive->startedAtt is not in the schema/);
    assert.match(problems, /payload->Nope->x is not in the schema/);
    assert.match(problems, /no stream declares live\.vod\.recordings/);
  });

  it('splits scripts on semicolons outside quotes and drops comments', () => {
    assert.deepEqual(splitStatements("-- c\nCREATE STREAM a (k STRING KEY) WITH (X='a;b');\n\n SELECT 1 ; -- tail\n"), [
      "CREATE STREAM a (k STRING KEY) WITH (X='a;b');",
      'SELECT 1;',
    ]);
    assert.throws(() => splitStatements('SELECT 1'), /without a closing semicolon/);
  });
});
