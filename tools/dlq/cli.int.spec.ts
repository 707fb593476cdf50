import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ChatEvent } from '../../schemas/generated/events.ts';
import { dlqName } from '../../schemas/topics.ts';
import { testBus } from '../../tests/support/bus.ts';
import { chatEvents } from '../../tests/support/chat-events.ts';
import { endpoints } from '../../tests/support/endpoints.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { waitFor } from '../../tests/support/wait.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { REPO_ROOT } from '../../platform/paths.ts';

const root = REPO_ROOT;
const execFileP = promisify(execFile);

describe('dead-letter re-drive (real Kafka and registry)', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let consumer: EventConsumer;
  const received: ChatEvent[] = [];
  const positions = new Map<string, { offset: string; version: string }>();
  let acceptPoison = false;

  async function dlq(...args: string[]): Promise<{ code: number; out: string }> {
    const e = endpoints();
    const env = {
      ...process.env,
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
    };
    try {
      const { stdout, stderr } = await execFileP(process.execPath, ['--import', 'tsx', 'tools/dlq/cli.ts', ...args], {
        cwd: root,
        env,
      });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const x = err as { code: number; stdout: string; stderr: string };
      return { code: x.code, out: x.stdout + x.stderr };
    }
  }

  before(async () => {
    bus = testBus('dlqcli');
    await bus.init(['chatMessages']);
    producer = bus.producer();
    await producer.connect();
    // A consumer with a "bug": it rejects messages that say "poison" until the bug is fixed.
    consumer = bus
      .consumer({ groupId: uniqueName('dlq-consumer'), from: 'earliest' })
      .on(bus.topic('chatMessages'), async (records) => {
        for (const r of records) {
          const p = r.event.payload;
          if (p.type === 'ChatMessageSent' && p.content === 'poison' && !acceptPoison)
            throw new Error('cannot handle poison');
          received.push(r.event);
          if (p.type === 'ChatMessageSent') positions.set(p.content, { offset: r.offset, version: r.version });
        }
      });
    await consumer.start();
  });
  after(async () => {
    await consumer.stop();
    await producer.disconnect();
  });

  it('lists dead letters, stops at one it cannot send, and sends fixed and decodable ones back once', async () => {
    const topic = bus.topic('chatMessages');
    const stream = 'dlq_stream';
    await producer.sendRaw(topic.name, [{ key: stream, value: Buffer.from('not avro at all') }]);
    await producer.publish(topic, [chatEvents.sent(stream, { userId: 'u1', content: 'poison' })]);
    await producer.publish(topic, [chatEvents.sent(stream, { userId: 'u2', content: 'fine' })]);
    await waitFor('the good message handled', () => received.some((e) => JSON.stringify(e).includes('"fine"')));

    let lines: Array<Record<string, unknown>> = [];
    await waitFor('both dead letters listed', async () => {
      const r = await dlq('list', topic.name);
      assert.equal(r.code, 0, r.out);
      lines = r.out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      return lines.length === 2;
    });
    const [garbage, poison] = lines as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(garbage.reason, 'not-wire-format');
    assert.equal(garbage.value, null);
    assert.equal(Buffer.from(garbage.raw as string, 'base64').toString(), 'not avro at all');
    assert.equal(poison.reason, 'handler-failed');
    assert.match(String(poison.error), /cannot handle poison/);
    assert.equal((poison.value as ChatEvent).streamId, stream);
    assert.equal(poison.redriven, false);

    // Nothing fixed yet: the garbage blocks its partition, and nothing is sent past it.
    const blocked = await dlq('redrive', topic.name);
    assert.equal(blocked.code, 1, blocked.out);
    assert.match(blocked.out, /stuck .*\(not-wire-format\): it does not decode/);
    assert.match(blocked.out, /0 sent, 1 stuck, 2 pending/);

    // The operator fixes the consumer and writes the garbage record's intended value.
    acceptPoison = true;
    const fixed = chatEvents.sent(stream, { userId: 'u3', content: 'repaired by hand' });
    const file = join(mkdtempSync(join(tmpdir(), 'dlq-')), 'fixed.jsonl');
    writeFileSync(file, `${JSON.stringify({ ...garbage, value: fixed })}\n`);
    const dry = await dlq('redrive', topic.name, '--file', file, '--dry-run');
    assert.match(dry.out, /2 would send, 0 stuck/);
    const sent = await dlq('redrive', topic.name, '--file', file);
    assert.equal(sent.code, 0, sent.out);
    assert.match(sent.out, /\(fixed\)[\s\S]*\(as is\)/);
    assert.match(sent.out, /2 sent, 0 stuck, 2 pending/);
    await waitFor('both re-driven records handled', () => {
      const contents = received.map((e) => (e.payload.type === 'ChatMessageSent' ? e.payload.content : ''));
      return contents.includes('repaired by hand') && contents.includes('poison');
    });

    // The re-driven record ranks where it first was for consumers that keep the newest by offset.
    const origin = poison.origin as { offset: number };
    const back = positions.get('poison')!;
    assert.equal(back.version, String(origin.offset));
    assert.ok(Number(back.offset) > origin.offset, 'it was appended again, at a new offset');

    const again = await dlq('redrive', topic.name);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /0 sent, 0 stuck, 0 pending/);
    const relisted = await dlq('list', topic.name);
    assert.ok(
      relisted.out
        .trim()
        .split('\n')
        .every((l) => (JSON.parse(l) as { redriven: boolean }).redriven),
    );
    assert.equal(dlqName(topic.name), `${topic.name}.dlq`);
  });

  it('names the platform topics when given another', async () => {
    const r = await dlq('list', 'no.such.topic');
    assert.equal(r.code, 2);
    assert.match(r.out, /is not a platform topic; known: .*live\.chat\.messages/);
  });
});
