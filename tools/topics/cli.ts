/**
 * `npm run topics -- <command>`: look at the platform's topics without writing code (the commands
 * are in `program`, and `--help`). Topics of the catalog decode into their typed form (payload
 * tagged by `type`); any other topic in the Confluent wire format (dead-letter topics included)
 * decodes with the writer schema named in each record.
 * Reading never joins a consumer group that commits: it cannot disturb the platform's offsets.
 */
import { InvalidArgumentError, type Command, type OptionValues } from '@commander-js/extra-typings';
import { z } from 'zod';
import { TOPICS, subjectOf, type TopicKey } from '../../schemas/topics.ts';
import { integer, repeatable, run, time, tool } from '../../platform/cli.ts';
import { loadConfig } from '../../platform/config.ts';
import { busFromConfig, kafkaEnv } from '../../platform/infra-config.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import { EventCodec } from '../../platform/kafka/codec.ts';
import { headerString } from '../../platform/kafka/dead-letter.ts';
import type { RawRecord } from '../../platform/kafka/reader.ts';
import { unframe } from '../../platform/kafka/wire.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { Counter, parseWhere } from './query.ts';

/** A `--where` clause, checked as it is read; the clauses so far. */
function where(clause: string, previous: string[] | undefined): string[] {
  try {
    parseWhere([clause]);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return repeatable(clause, previous);
}

/** The window and filters of `tail` and `count`. */
function filters<Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) {
  return cmd
    .option('--from <T>', 'records from this time on (default: the beginning)', time)
    .option('--to <T>', 'records before this time', time)
    .option('--where <f=v>', 'f=v, f!=v or f~text on a field (payload.type); repeated, all must hold', where);
}

const program = tool({
  name: 'topics',
  command: 'npm run topics --',
  description:
    "The platform's topics, decoded. Catalog topics decode into their typed form (payload tagged by " +
    '`type`); any other topic in the Confluent wire format (dead letters included) decodes with the ' +
    'writer schema each record names. Reading never joins a consumer group that commits.',
  examples: [
    'npm run topics -- list',
    'npm run topics -- tail live.stream.lifecycle --where payload.type=StreamCreated --from -1h',
    'npm run topics -- tail live.stream.lifecycle.dlq --meta            # dead letters, with their reasons',
    'npm run topics -- tail live.chat.messages --from -15m --follow --limit 100',
    'npm run topics -- count live.stream.lifecycle --by payload.type --from 2026-11-25T00:00Z',
  ],
  notes:
    'T is ISO-8601, epoch millis or relative to now (-30s, -15m, -2h, -1d). A field is a dotted path\n' +
    'into the decoded value: payload.type.',
});

program
  .command('list')
  .description('topics, partitions, records, value subject and schema versions')
  .action(async () => {
    await list(connect());
  });

filters(program.command('tail').argument('<topic>', 'the topic to read'))
  .description('decoded values as JSON lines, from the beginning by default')
  .option('--limit <N>', 'stop after N records', integer(1))
  .option('--follow', 'keep reading as records arrive (Ctrl-C stops)')
  .option('--meta', 'wrap each value with its partition, offset, timestamp and key')
  .action(async (topic, opts) => {
    const match = parseWhere(opts.where ?? []);
    const limit = opts.limit ?? Infinity;
    let shown = 0;
    await scan(connect(), topic, opts, (value, record) => {
      if (!match(value)) return true;
      const meta = {
        partition: record.partition,
        offset: record.offset,
        timestamp: new Date(record.timestamp).toISOString(),
        key: record.key?.toString(),
      };
      console.log(json(opts.meta ? { ...meta, value } : value));
      return ++shown < limit;
    });
  });

filters(program.command('count').argument('<topic>', 'the topic to read'))
  .description('how many records match, grouped by a field')
  .option('--by <field>', 'group the count by this field (payload.type)')
  .action(async (topic, opts) => {
    const match = parseWhere(opts.where ?? []);
    const counter = new Counter(opts.by);
    await scan(connect(), topic, opts, (value) => {
      if (match(value)) counter.add(value);
      return true;
    });
    const { total, groups } = counter.result();
    console.log(`${total} records${opts.by ? ` by ${opts.by}` : ''}`);
    for (const g of groups) console.log(`${String(g.count).padStart(10)}  ${g.key}`);
  });

/** The bus the commands read with; nothing connects before a command runs. */
function connect(): EventBus {
  const config = loadConfig(z.object(kafkaEnv));
  const metrics = new Metrics('topics-cli', { defaults: false });
  return busFromConfig(config, 'topics-cli', metrics, createLogger('topics-cli', 'error'));
}

/** A catalog topic under any prefix (a test's or a tenant's) still decodes into its typed form. */
function catalogKey(topic: string): TopicKey | undefined {
  return (Object.keys(TOPICS) as TopicKey[]).find(
    (k) => topic === TOPICS[k].base || topic.endsWith(`.${TOPICS[k].base}`),
  );
}

const json = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    Buffer.isBuffer(x) ? x.toString('base64') : typeof x === 'bigint' ? String(x) : x,
  );

async function list(bus: EventBus): Promise<void> {
  const rows: string[][] = [['topic', 'partitions', 'records', 'subject', 'versions']];
  await bus.withAdmin(async (admin) => {
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
    for (const name of names) {
      const offsets = await admin.topicOffsets(name);
      const records = offsets.reduce((n, p) => n + p.high - p.low, 0);
      const subject = subjectOf(name);
      const versions = await bus.registry.subjectVersions(subject);
      rows.push([
        name,
        String(offsets.length),
        String(records),
        versions.length ? subject : '-',
        versions.join(',') || '-',
      ]);
    }
  });
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

/** Reads [from, to) of every partition; stops at the end offsets seen at start unless following. */
async function scan(
  bus: EventBus,
  topic: string,
  window: { from?: number; to?: number; follow?: boolean },
  onRecord: (value: unknown, record: RawRecord) => boolean,
): Promise<void> {
  const key = catalogKey(topic);
  // Decoding needs only the reader schema, never registration: a read-only tool creates nothing.
  const codec = key ? new EventCodec<unknown>(subjectOf(topic), bus.valueSchema(key), bus.registry) : undefined;
  const decode = codec
    ? (buf: Buffer | null) => codec.decode(buf)
    : async (buf: Buffer | null) => {
        const { schemaId, body } = unframe(buf);
        return (await bus.registry.writerType(schemaId)).fromBuffer(body) as unknown;
      };
  const { from, to } = window;
  const reading = await bus.read(
    topic,
    { from: from === undefined ? 'earliest' : { timestamp: from }, follow: window.follow ?? false },
    async (record) => {
      const ts = record.timestamp;
      if ((from !== undefined && ts < from) || (to !== undefined && ts >= to)) return true;
      let value: unknown;
      try {
        value = await decode(record.value);
      } catch (err) {
        value = { undecodable: (err as Error).message, reason: headerString(record.headers, 'dlq.reason') };
      }
      return onRecord(value, record);
    },
  );
  process.once('SIGINT', () => void reading.stop());
  await reading.done;
}

await run(program);
