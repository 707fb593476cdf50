import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../schemas/generated/events.ts';
import { testBus } from './support/bus.ts';
import { endpoints } from './support/endpoints.ts';
import { waitFor } from './support/wait.ts';
import { REPO_ROOT } from '../platform/paths.ts';

const root = REPO_ROOT;
const fixture = (
  JSON.parse(readFileSync(join(root, 'schemas/fixtures/streamLifecycle.json'), 'utf8')) as StreamLifecycleEvent[]
)[0]!;

describe('graceful shutdown of a consumer service', () => {
  it('on SIGTERM finishes the batch in hand, commits exactly what it handled, and exits 0', async () => {
    const bus = testBus('shutdown');
    await bus.init(['streamLifecycle']);
    const topic = bus.topic('streamLifecycle');
    const events = Array.from({ length: 60 }, (_, i) => ({
      ...fixture,
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const producer = bus.producer();
    await producer.connect();
    await producer.publish(topic, events);
    await producer.disconnect();

    const out = join(mkdtempSync(join(tmpdir(), 'shutdown-')), 'handled.txt');
    const groupId = `${topic.name}.svc`;
    const e = endpoints();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tests/fixtures/recording-consumer.ts',
        out,
        topic.name.replace('live.stream.lifecycle', ''),
        groupId,
      ],
      {
        cwd: root,
        env: { ...process.env, KAFKA_BROKERS: e.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: e.registryUrl },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const handled = (): string[] =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .filter((l) => l && l !== 'started')
        : [];
    await waitFor('some events handled', () => handled().length >= 10);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'clean exit');

    const done = handled();
    assert.ok(done.length < events.length, 'stopped mid-stream (the test needs work left over)');
    const offsets = await bus.withAdmin((admin) => admin.committedOffsets(groupId, [topic.name]));
    const committed = offsets.reduce((n, p) => n + Math.max(0, p.offset), 0);
    assert.equal(committed, done.length, 'every handled event committed, nothing more');
  });
});
