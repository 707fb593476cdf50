/**
 * `npm run topics -- <command>`: look at the platform's topics without writing code (the commands
 * are in TOOL.usage). Topics of the catalog decode into their typed form (payload tagged by
 * `type`); any other topic in the Confluent wire format (dead-letter topics included) decodes with
 * the writer schema named in each record.
 * Reading never joins a consumer group that commits: it cannot disturb the platform's offsets.
 */
import { z } from 'zod';
import { TOPICS, subjectOf, type TopicKey } from '../../schemas/topics.ts';
import { cliArgs, usageError, type Tool } from '../../platform/cli.ts';
import { env, loadConfig } from '../../platform/config.ts';
import { EventBus } from '../../platform/kafka/bus.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { EventCodec } from '../../platform/kafka/codec.ts';
import { headerString } from '../../platform/kafka/dead-letter.ts';
import type { RawRecord } from '../../platform/kafka/reader.ts';
import { unframe } from '../../platform/kafka/wire.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { Counter, parseTime, parseWhere } from './query.ts';

const TOOL: Tool = {
  name: 'topics',
  usage: `usage: npm run topics -- list
       npm run topics -- tail <topic> [--from T] [--to T] [--where f=v ...] [--limit N] [--follow] [--meta]
       npm run topics -- count <topic> [--from T] [--to T] [--where f=v ...] [--by field]

  list          topics, partitions, records, value subject and schema versions
  tail <topic>  decoded values as JSON lines (from the beginning by default; --meta adds partition,
                offset, timestamp and key; --follow keeps reading; --limit stops after N)
  count <topic> how many records match, grouped by a field (--by)
  -h, --help    this text

T is ISO-8601, epoch millis or relative (-15m, -2h, -1d). --where takes f=v, f!=v or f~text on a
field f (a dotted path: payload.type); repeated, all must hold.`,
};

const { positionals, values } = cliArgs(TOOL, {
  allowPositionals: true,
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    where: { type: 'string', multiple: true, default: [] },
    by: { type: 'string' },
    limit: { type: 'string' },
    follow: { type: 'boolean', default: false },
    meta: { type: 'boolean', default: false },
  },
});

const config = loadConfig(
  z.object({
    KAFKA_BROKERS: env.list('127.0.0.1:9092'),
    SCHEMA_REGISTRY_URL: env.str('http://127.0.0.1:8081/apis/ccompat/v7'),
    LIVE_TOPIC_PREFIX: z.string().default(''),
    KAFKA_CLIENT: kafkaEnv.KAFKA_CLIENT,
  }),
);

const bus = new EventBus(
  {
    brokers: config.KAFKA_BROKERS,
    registryUrl: config.SCHEMA_REGISTRY_URL,
    clientId: 'topics-cli',
    topicPrefix: config.LIVE_TOPIC_PREFIX,
    client: config.KAFKA_CLIENT,
  },
  new Metrics('topics-cli', { defaults: false }),
  createLogger('topics-cli', 'error'),
);

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

async function list(): Promise<void> {
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
async function scan(topic: string, onRecord: (value: unknown, record: RawRecord) => boolean): Promise<void> {
  const key = catalogKey(topic);
  // Decoding needs only the reader schema, never registration: a read-only tool creates nothing.
  const codec = key ? new EventCodec<unknown>(subjectOf(topic), bus.valueSchema(key), bus.registry) : undefined;
  const decode = codec
    ? (buf: Buffer | null) => codec.decode(buf)
    : async (buf: Buffer | null) => {
        const { schemaId, body } = unframe(buf);
        return (await bus.registry.writerType(schemaId)).fromBuffer(body) as unknown;
      };
  const from = values.from ? parseTime(values.from) : undefined;
  const to = values.to ? parseTime(values.to) : undefined;
  const reading = await bus.read(
    topic,
    { from: from === undefined ? 'earliest' : { timestamp: from }, follow: values.follow },
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

async function main(): Promise<number> {
  const [cmd, topic] = positionals;
  if (cmd === 'list') {
    await list();
    return 0;
  }
  if ((cmd === 'tail' || cmd === 'count') && topic) {
    const match = parseWhere(values.where ?? []);
    if (cmd === 'tail') {
      const limit = values.limit ? Number(values.limit) : Infinity;
      let shown = 0;
      await scan(topic, (value, record) => {
        if (!match(value)) return true;
        const meta = {
          partition: record.partition,
          offset: record.offset,
          timestamp: new Date(record.timestamp).toISOString(),
          key: record.key?.toString(),
        };
        console.log(json(values.meta ? { ...meta, value } : value));
        return ++shown < limit;
      });
      return 0;
    }
    const counter = new Counter(values.by);
    await scan(topic, (value) => {
      if (match(value)) counter.add(value);
      return true;
    });
    const { total, groups } = counter.result();
    console.log(`${total} records${values.by ? ` by ${values.by}` : ''}`);
    for (const g of groups) console.log(`${String(g.count).padStart(10)}  ${g.key}`);
    return 0;
  }
  if (cmd === 'tail' || cmd === 'count') usageError(TOOL, `${cmd} needs a topic`);
  usageError(TOOL, cmd ? `unknown command "${cmd}"` : 'which command?');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
