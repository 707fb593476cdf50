/**
 * `npm run dlq -- <command> <topic>`: the dead letters of a topic, and sending them back.
 *
 *   list <topic>                        every dead letter as a JSON line: where it came from, why
 *                                       it failed, its key and decoded value (or why it does not
 *                                       decode), and whether it was re-driven already
 *   redrive <topic> [--file F] [--dry-run]
 *                                       sends the dead letters not re-driven yet back to <topic>:
 *                                       a record fixed in F (lines of `list` with `value` edited)
 *                                       is encoded from the fix; one that decodes today (its
 *                                       consumer was fixed) goes back byte for byte; the first one
 *                                       that is neither stops its partition (see plan.ts)
 *
 * Re-driven records keep their key and headers, plus `dlq.redriven.from` (the dead letter) and
 * `dlq.redriven.origin` (the partition and offset the record first had, which consumers that keep
 * the newest state by offset go by, so an old event sent back late does not pass for a new one).
 * Several consumer groups that failed on the same record each dead-lettered a copy: one copy per
 * original record is sent. Consumers are idempotent, so a record re-driven twice does no harm; the
 * `dlq-redrive.<topic>` group's offsets make that rare. Exit status: 0 done, 1 something is stuck, 2 usage or failure.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { z } from 'zod';
import { TOPICS, dlqName, type TopicKey } from '../../schemas/topics.ts';
import { lazy, run, tool } from '../../platform/cli.ts';
import { loadConfig } from '../../platform/config.ts';
import { busFromConfig, kafkaEnv } from '../../platform/infra-config.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import { DLQ_HEADERS, REDRIVE_HEADERS, headerString } from '../../platform/kafka/dead-letter.ts';
import type { RawRecord, RecordHeaders } from '../../platform/kafka/reader.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { fixKey, planRedrive, type DeadLetter, type Fix } from './plan.ts';

const config = lazy(() => loadConfig(z.object(kafkaEnv)));

const topicName = (k: TopicKey): string => `${config().LIVE_TOPIC_PREFIX}${TOPICS[k].base}`;

/** A platform topic by its name (under LIVE_TOPIC_PREFIX), read as the command line is parsed. */
function platformTopic(name: string): TopicKey {
  const keys = Object.keys(TOPICS) as TopicKey[];
  const key = keys.find((k) => topicName(k) === name);
  if (!key)
    throw new InvalidArgumentError(`"${name}" is not a platform topic; known: ${keys.map(topicName).join(', ')}`);
  return key;
}

const program = tool({
  name: 'dlq',
  command: 'npm run dlq --',
  description:
    'The dead letters of a platform topic, and sending them back. Re-driven records keep their key and ' +
    'headers, plus where they were dead-lettered from and where they first were; one copy per original ' +
    'record is sent, and the dlq-redrive.<topic> group remembers what was sent.',
  examples: [
    'npm run dlq -- list live.chat.messages > dead.jsonl               # one JSON line each, decoded where possible',
    'npm run dlq -- redrive live.chat.messages --file dead.jsonl --dry-run',
    'npm run dlq -- redrive live.chat.messages --file dead.jsonl',
    'npm run dlq -- redrive live.chat.messages                         # after fixing a consumer bug: resend what decodes',
  ],
  notes: 'Exit status: 0 done, 1 something is stuck, 2 usage or failure.',
  failureStatus: 2,
});

program
  .command('list')
  .argument('<topic>', 'a platform topic (under LIVE_TOPIC_PREFIX)', platformTopic)
  .description('every dead letter of <topic> as a JSON line: where it came from, why it failed, its key and value')
  .action(async (key) => {
    const bus = await connect(key);
    const done = await redriven(bus, key);
    for (const l of await readDeadLetters(bus, key)) console.log(listLine(l, done));
  });

program
  .command('redrive')
  .argument('<topic>', 'a platform topic (under LIVE_TOPIC_PREFIX)', platformTopic)
  .description('send the dead letters not re-driven yet back to <topic>')
  .option('--file <F>', 'fixed records: lines of `list` with `value` edited')
  .option('--dry-run', 'say what would be sent, send nothing')
  .action(async (key, opts) => {
    // Read before connecting: a mistake in the file costs no connection.
    const fixes = opts.file ? readFixes(opts.file) : [];
    process.exitCode = await redrive(await connect(key), key, fixes, opts.dryRun ?? false);
  });

async function connect(key: TopicKey): Promise<EventBus> {
  const metrics = new Metrics('dlq-cli', { defaults: false });
  const bus = busFromConfig(config(), 'dlq-cli', metrics, createLogger('dlq-cli', 'error'));
  await bus.init([key]);
  return bus;
}

interface Letter extends DeadLetter {
  message: RawRecord;
  value: unknown;
  undecodable?: string;
}

/** Where a dead letter's record first was: `<topic>/<partition>@<offset>`, when its headers say. */
function originOf(headers: RecordHeaders | undefined): string | null {
  const [topic, partition, offset] = [DLQ_HEADERS.topic, DLQ_HEADERS.partition, DLQ_HEADERS.offset].map((h) =>
    headerString(headers, h),
  );
  return topic && partition && offset ? `${topic}/${partition}@${offset}` : null;
}

/** Every record of the dead-letter topic, decoded with the origin topic's schema where it can be. */
async function readDeadLetters(bus: EventBus, key: TopicKey): Promise<Letter[]> {
  const topic = bus.topic(key);
  const dlq = dlqName(topic.name);
  const out: Letter[] = [];
  const reading = await bus.read(dlq, { from: 'earliest' }, async (message) => {
    let value: unknown = null;
    let undecodable: string | undefined;
    try {
      value = await topic.codec.decode(message.value);
    } catch (err) {
      undecodable = (err as Error).message;
    }
    out.push({
      partition: message.partition,
      offset: Number(message.offset),
      decodes: undecodable === undefined,
      reason: headerString(message.headers, DLQ_HEADERS.reason) ?? 'unknown',
      origin: originOf(message.headers),
      message,
      value,
      ...(undecodable !== undefined && { undecodable }),
    });
  });
  await reading.done;
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

const redriveGroup = (key: TopicKey): string => `${config().LIVE_TOPIC_PREFIX}dlq-redrive.${TOPICS[key].base}`;

async function redriven(bus: EventBus, key: TopicKey): Promise<Map<number, number>> {
  const committed = await bus.withAdmin((admin) =>
    admin.committedOffsets(redriveGroup(key), [dlqName(bus.topicName(key))]),
  );
  return new Map(committed.map((c) => [c.partition, c.offset]));
}

function listLine(l: Letter, done: Map<number, number>): string {
  const h = l.message.headers;
  return JSON.stringify({
    partition: l.partition,
    offset: l.offset,
    redriven: l.offset < (done.get(l.partition) ?? 0),
    reason: l.reason,
    error: headerString(h, DLQ_HEADERS.error),
    origin: {
      topic: headerString(h, DLQ_HEADERS.topic),
      partition: Number(headerString(h, DLQ_HEADERS.partition)),
      offset: Number(headerString(h, DLQ_HEADERS.offset)),
      group: headerString(h, DLQ_HEADERS.group),
      failedAt: headerString(h, DLQ_HEADERS.failedAt),
    },
    key: l.message.key?.toString() ?? null,
    value: l.value,
    ...(l.undecodable !== undefined && {
      undecodable: l.undecodable,
      raw: l.message.value?.toString('base64') ?? null,
    }),
  });
}

function readFixes(path: string): Fix[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line)
    .map(({ line, n }) => {
      let parsed: { partition?: unknown; offset?: unknown; value?: unknown };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch (err) {
        throw new Error(`${path}:${n}: not JSON (${(err as Error).message})`, { cause: err });
      }
      const { partition, offset, value } = parsed;
      if (typeof partition !== 'number' || typeof offset !== 'number' || value === undefined || value === null)
        throw new Error(
          `${path}:${n}: needs "partition", "offset" and a fixed "value" (lines of \`npm run dlq -- list\`)`,
        );
      return { partition, offset, value };
    });
}

/**
 * The original headers without the dead-letter ones, plus where this copy came from and where the
 * record first was (consumers that keep the newest state by offset rank it there: versionOf).
 */
function redriveHeaders(l: Letter, dlq: string): RecordHeaders {
  const dlqNames = new Set<string>(Object.values(DLQ_HEADERS));
  const kept = Object.entries(l.message.headers).filter(([k]) => !dlqNames.has(k));
  const partition = headerString(l.message.headers, DLQ_HEADERS.partition);
  const offset = headerString(l.message.headers, DLQ_HEADERS.offset);
  return {
    ...Object.fromEntries(kept),
    [REDRIVE_HEADERS.from]: `${dlq}/${l.partition}@${l.offset}`,
    ...(partition !== undefined && offset !== undefined && { [REDRIVE_HEADERS.origin]: `${partition}@${offset}` }),
  };
}

async function redrive(bus: EventBus, key: TopicKey, fixes: Fix[], dryRun: boolean): Promise<number> {
  const topic = bus.topic(key);
  const dlq = dlqName(topic.name);
  const done = await redriven(bus, key);
  const letters = (await readDeadLetters(bus, key)).filter((l) => l.offset >= (done.get(l.partition) ?? 0));
  const plan = planRedrive(letters, fixes);
  const byKey = new Map(letters.map((l) => [fixKey(l.partition, l.offset), l]));

  const records = plan.actions.map((a) => {
    const l = byKey.get(fixKey(a.letter.partition, a.letter.offset))!;
    let value: Buffer | null = l.message.value;
    if (a.send === 'fixed') {
      try {
        value = topic.codec.encode(a.value as never);
      } catch (err) {
        throw new Error(
          `fix for ${dlq} ${fixKey(l.partition, l.offset)} does not fit the schema: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    return {
      key: l.message.key,
      value,
      headers: redriveHeaders(l, dlq),
      label: `${a.send === 'fixed' ? 'fixed' : 'as is'}`,
    };
  });
  const verb = dryRun ? 'would send' : 'sent';
  if (!dryRun && records.length) {
    const producer = bus.producer();
    await producer.connect();
    await producer.sendRaw(
      topic.name,
      records.map(({ key: k, value, headers }) => ({ key: k, value, headers })),
    );
    await producer.disconnect();
    await bus.withAdmin((admin) =>
      admin.setCommittedOffsets(
        redriveGroup(key),
        [...plan.commits].map(([partition, offset]) => ({ topic: dlq, partition, offset })),
      ),
    );
  }
  plan.actions.forEach((a, i) =>
    console.log(
      `${verb} ${dlq} ${fixKey(a.letter.partition, a.letter.offset)} -> ${topic.name} (${records[i]!.label})`,
    ),
  );
  for (const c of plan.copies) {
    console.log(`passed over ${dlq} ${fixKey(c.partition, c.offset)}: a copy of ${c.origin}, sent once above`);
  }
  for (const s of plan.stuck) {
    console.log(
      `stuck ${dlq} ${fixKey(s.partition, s.offset)} (${s.reason}): it does not decode; fix its "value" in the output of ` +
        `\`npm run dlq -- list ${topic.name}\` and re-drive with --file`,
    );
  }
  for (const f of plan.unusedFixes)
    console.log(`unused fix ${fixKey(f.partition, f.offset)}: no pending dead letter there`);
  console.log(`${records.length} ${verb}, ${plan.stuck.length} stuck, ${letters.length} pending before this run`);
  return plan.stuck.length ? 1 : 0;
}

await run(program);
