import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TOPICS, type TopicKey } from '../../schemas/topics.ts';
import { testBus } from '../../tests/support/bus.ts';
import { REPO_ROOT } from '../../platform/paths.ts';

const root = REPO_ROOT;
const execFileP = promisify(execFile);
const url = process.env.KSQLDB_URL;
const skip = url
  ? false
  : 'no ksqlDB on this machine (it ships only as a Docker image): set KSQLDB_URL, e.g. with compose/ on a Docker host';

describe('ksqlDB statements against a real ksqlDB', () => {
  it('apply creates every stream and table over the registered schemas, and is idempotent', { skip }, async () => {
    const bus = testBus('ksql');
    await bus.init(Object.keys(TOPICS) as TopicKey[]);
    const run = async (...args: string[]) =>
      (
        await execFileP(process.execPath, ['--import', 'tsx', 'tools/ksql/cli.ts', ...args], {
          cwd: root,
          env: { ...process.env, KSQLDB_URL: url, LIVE_TOPIC_PREFIX: bus.config.topicPrefix },
        })
      ).stdout;
    // The names of streams and tables are global on a ksqlDB server: a run per prefix would need
    // its own server, so this test expects a fresh one (as compose/ starts).
    assert.match(await run('apply'), /\d+ created/);
    assert.match(await run('apply'), /0 created/);
    assert.match(await run('describe', 'stream_lifecycle'), /PAYLOAD/);
    assert.match(await run('query', 'SELECT * FROM viewers_by_category'), /CATEGORY/);
  });
});
