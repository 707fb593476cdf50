import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TOPICS, type TopicKey } from '../../schemas/topics.ts';
import { testBus } from '../../tests/support/bus.ts';
import { endpoints } from '../../tests/support/endpoints.ts';
import { REPO_ROOT } from '../../platform/paths.ts';

const run = promisify(execFile);
const root = REPO_ROOT;

async function topics(...args: string[]): Promise<string> {
  const e = endpoints();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/topics/cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, KAFKA_BROKERS: e.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: e.registryUrl },
  });
  return stdout;
}

describe('topic tools (real Kafka and registry)', () => {
  it('lists, tails and counts every catalog topic, decoded', async () => {
    const bus = testBus('topics-cli');
    const keys = Object.keys(TOPICS) as TopicKey[];
    await bus.init(keys);
    const producer = bus.producer();
    await producer.connect();
    const fixtures = new Map<TopicKey, unknown[]>();
    for (const k of keys) {
      const events = JSON.parse(readFileSync(resolve(root, 'schemas/fixtures', `${k}.json`), 'utf8')) as never[];
      fixtures.set(k, events);
      await producer.publish(bus.topic(k), events);
    }
    await producer.disconnect();

    const listing = await topics('list');
    for (const k of keys)
      assert.match(
        listing,
        new RegExp(`${bus.topicName(k).replaceAll('.', '\\.')}\\s+\\d+\\s+${fixtures.get(k)!.length}\\s`),
      );

    for (const k of keys) {
      const lines = (await topics('tail', bus.topicName(k))).trim().split('\n');
      const decoded = lines.map((l) => JSON.parse(l) as { eventId: string });
      const sortById = (xs: Array<{ eventId: string }>) => [...xs].sort((a, b) => a.eventId.localeCompare(b.eventId));
      assert.deepEqual(sortById(decoded), sortById(fixtures.get(k) as Array<{ eventId: string }>), `${k} decodes`);
    }

    const filtered = await topics('tail', bus.topicName('streamLifecycle'), '--where', 'payload.type=StreamEnded');
    assert.equal(filtered.trim().split('\n').length, 1);
    const lifecycle = bus.topicName('streamLifecycle');
    assert.equal((await topics('tail', lifecycle, '--limit', '2')).trim().split('\n').length, 2, 'stops at the limit');
    assert.equal((await topics('tail', lifecycle, '--from=-1h')).trim().split('\n').length, 4, 'from a time');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal(await topics('tail', lifecycle, '--from', later), '', 'nothing after a time to come');
    const counted = await topics('count', bus.topicName('streamLifecycle'), '--by', 'payload.type');
    assert.match(counted, /^4 records by payload\.type/);
    assert.match(counted, /1 {2}StreamWentLive/);
  });
});
