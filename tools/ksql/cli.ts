/**
 * `npm run ksql -- <command>`: the analytics statements and queries, through ksqldb-client (the
 * commands are in `program`, and `--help`). ksqlDB runs in compose/ on a Docker host only.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { KsqldbClient } from './client.ts';
import { z } from 'zod';
import { expand, loadNamedSchemas } from '../../schemas/load.ts';
import { TOPICS, type TopicKey } from '../../schemas/topics.ts';
import { integer, lazy, run, tool } from '../../platform/cli.ts';
import { env, loadConfig } from '../../platform/config.ts';
import { checkStatements } from './check.ts';
import { formatTable, rankByPeak } from './format.ts';
import { definedSource, loadStatements } from './statements.ts';

/** `--day`: a UTC day, YYYY-MM-DD, as the epoch millis of its start. */
function day(value: string): number {
  const start = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  if (!Number.isFinite(start)) throw new InvalidArgumentError('expected a day, YYYY-MM-DD');
  return start;
}

const program = tool({
  name: 'ksql',
  command: 'npm run ksql --',
  description: "The analytics statements (analytics/ksql/*.sql) and queries over the platform's topics, on ksqlDB.",
  examples: [
    'npm run ksql -- check                                       # the statements against the Avro schemas',
    'npm run ksql -- apply                                       # idempotent: creates what is missing',
    'npm run ksql -- query "SELECT * FROM viewers_by_category"',
    'npm run ksql -- push "SELECT streamId, messages, chatters FROM chat_per_minute EMIT CHANGES" --limit 20',
    'npm run ksql -- top-streams --day 2026-11-25 --limit 10',
    'npm run ksql -- describe stream_lifecycle',
  ],
  notes:
    'KSQLDB_URL (default http://127.0.0.1:8089, the compose mapping) names the server; LIVE_TOPIC_PREFIX the\n' +
    'topics. Exit status: 0 done, 1 problems found (check), 2 usage or failure.',
  failureStatus: 2,
});

program
  .command('check')
  .description("checks analytics/ksql/*.sql against the repository's Avro schemas (no server)")
  .action(() => {
    const named = loadNamedSchemas();
    const problems = checkStatements(
      statements(),
      (k: TopicKey) => expand(TOPICS[k].valueRecord, named),
      config().LIVE_TOPIC_PREFIX,
    );
    for (const p of problems) console.log(p);
    console.log(problems.length ? `${problems.length} problem(s)` : `${statements().length} statements check out`);
    if (problems.length) process.exitCode = 1;
  });

program
  .command('apply')
  .description('creates every stream and table that does not exist yet (idempotent)')
  .action(() =>
    withClient(async (client) => {
      const existing = new Set(
        [...(await client.listStreams()), ...(await client.listTables())].map((s) => s.name.toLowerCase()),
      );
      let created = 0;
      for (const s of statements()) {
        const def = definedSource(s.sql)!;
        if (existing.has(def.name)) {
          console.log(`exists   ${def.kind.toLowerCase()} ${def.name}`);
          continue;
        }
        // Persistent queries start from the beginning of their topics: the tables cover all history.
        const { error } = await client.executeStatement(s.sql, {
          streamsProperties: { 'ksql.streams.auto.offset.reset': 'earliest' },
        });
        if (error) throw new Error(`${s.file}: ${def.name}: ${error.message}`);
        console.log(`created  ${def.kind.toLowerCase()} ${def.name}`);
        created++;
      }
      console.log(`${created} created, ${statements().length - created} already there`);
    }),
  );

program
  .command('query')
  .argument('<sql>', 'a pull query, in quotes')
  .description('runs a pull query and prints a table')
  .action((sql) =>
    withClient(async (client) => {
      const { columns, rows } = await pull(client, sql);
      console.log(formatTable(columns, rows));
    }),
  );

program
  .command('push')
  .argument('<sql>', 'a push query (… EMIT CHANGES), in quotes')
  .description('prints rows as they change (Ctrl-C, or --limit rows)')
  .option('--limit <N>', 'stop after N rows', integer(1))
  .action((sql, opts) =>
    withClient(async (client) => {
      let seen = 0;
      let header = false;
      let queryId: string | undefined;
      const { error } = await client.streamQuery(sql.trim().endsWith(';') ? sql : `${sql};`, (data) => {
        if (data.metadata?.queryId) queryId = data.metadata.queryId;
        if (!header && data.metadata?.columnNames) {
          console.log(data.metadata.columnNames.join('\t'));
          header = true;
        }
        for (const row of data.rows ?? []) {
          console.log((row as unknown[]).map((v) => JSON.stringify(v)).join('\t'));
          seen++;
          if (opts.limit !== undefined && seen >= opts.limit && queryId) void client.terminatePushQuery(queryId);
        }
      });
      if (error) throw new Error(`ksqlDB refused the query: ${error.message}`);
    }),
  );

program
  .command('top-streams')
  .description('streams by peak viewers on a day')
  .option('--day <YYYY-MM-DD>', 'the day, UTC (default: today)', day)
  .option('--limit <N>', 'how many streams', integer(1), 10)
  .action((opts) =>
    withClient(async (client) => {
      const start = opts.day ?? day(new Date().toISOString().slice(0, 10));
      const { columns, rows } = await pull(
        client,
        `SELECT streamId, peak_viewers FROM peak_viewers_daily WHERE WINDOWSTART = ${start}`,
      );
      const ranked = rankByPeak(columns, rows, opts.limit);
      console.log(formatTable(['rank', 'stream', 'peak viewers'], ranked));
    }),
  );

program
  .command('describe')
  .argument('<source>', 'a stream or table')
  .description('columns of a stream or table')
  .action((source) =>
    withClient(async (client) => {
      const d = await client.describeSource(source);
      console.log(
        formatTable(
          ['column', 'type'],
          d.fields.map((f) => [f.name, f.schema.type]),
        ),
      );
    }),
  );

const config = lazy(() =>
  loadConfig(
    z.object({
      KSQLDB_URL: env.str('http://127.0.0.1:8089'),
      LIVE_TOPIC_PREFIX: z.string().default(''),
    }),
  ),
);

const statements = (): ReturnType<typeof loadStatements> =>
  loadStatements({ TOPIC_PREFIX: config().LIVE_TOPIC_PREFIX });

async function withClient<T>(fn: (c: KsqldbClient) => Promise<T>): Promise<T> {
  const url = new URL(config().KSQLDB_URL);
  const client = new KsqldbClient({
    host: `${url.protocol}//${url.hostname}`,
    port: url.port || 8088,
    timeout: 30_000,
  });
  // ksqldb-client prints a refused connection, stack and all, before it rejects; the rejection is
  // reported below, in one line (DEBUG keeps the library's print).
  const print = console.error;
  if (!process.env.DEBUG) console.error = () => undefined;
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `cannot reach ksqlDB at ${config().KSQLDB_URL} (${(err as Error).message}); start it with ` +
        '`docker compose -f compose/docker-compose.yml up -d --wait ksqldb` on a Docker host',
      { cause: err },
    );
  } finally {
    console.error = print;
  }
  try {
    return await fn(client);
  } finally {
    await client.disconnect();
  }
}

async function pull(client: KsqldbClient, sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  const { data, error } = await client.query(sql.trim().endsWith(';') ? sql : `${sql};`);
  if (error) throw new Error(`ksqlDB refused the query: ${error.message}`);
  return { columns: data?.metadata.columnNames ?? [], rows: (data?.rows ?? []) as unknown[][] };
}

await run(program);
