/**
 * `npm run ksql -- <command>`: the analytics statements and queries, through ksqldb-client (the
 * commands are in TOOL.usage). ksqlDB runs in compose/ on a Docker host only.
 */
import { KsqldbClient } from './client.ts';
import { z } from 'zod';
import { expand, loadNamedSchemas } from '../../schemas/load.ts';
import { TOPICS, type TopicKey } from '../../schemas/topics.ts';
import { cliArgs, usageError, type Tool } from '../../platform/cli.ts';
import { env, loadConfig } from '../../platform/config.ts';
import { checkStatements } from './check.ts';
import { formatTable, rankByPeak } from './format.ts';
import { definedSource, loadStatements } from './statements.ts';

const TOOL: Tool = {
  name: 'ksql',
  usage: `usage: npm run ksql -- check | apply | query "<pull query>" | push "<push query>" [--limit N]
       npm run ksql -- top-streams [--day YYYY-MM-DD] [--limit N] | describe <source>

  check                 checks analytics/ksql/*.sql against the repository's Avro schemas (no server)
  apply                 creates every stream and table that does not exist yet (idempotent)
  query "<pull query>"  runs a pull query and prints a table
  push "<push query>" [--limit N]               prints rows as they change (Ctrl-C, or N rows)
  top-streams [--day YYYY-MM-DD] [--limit N]    streams by peak viewers on a day (UTC; default 10)
  describe <source>     columns of a stream or table
  -h, --help            this text

KSQLDB_URL (default http://127.0.0.1:8089, the compose mapping) names the server;
LIVE_TOPIC_PREFIX the topics.`,
};
const { positionals, values } = cliArgs(TOOL, {
  allowPositionals: true,
  options: { limit: { type: 'string' }, day: { type: 'string' } },
});

const config = loadConfig(
  z.object({
    KSQLDB_URL: env.str('http://127.0.0.1:8089'),
    LIVE_TOPIC_PREFIX: z.string().default(''),
  }),
);

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const statements = (): ReturnType<typeof loadStatements> => loadStatements({ TOPIC_PREFIX: config.LIVE_TOPIC_PREFIX });

async function withClient<T>(fn: (c: KsqldbClient) => Promise<T>): Promise<T> {
  const url = new URL(config.KSQLDB_URL);
  const client = new KsqldbClient({
    host: `${url.protocol}//${url.hostname}`,
    port: url.port || 8088,
    timeout: 30_000,
  });
  try {
    await client.connect();
  } catch (err) {
    fail(
      `cannot reach ksqlDB at ${config.KSQLDB_URL} (${(err as Error).message}); start it with ` +
        '`docker compose -f compose/docker-compose.yml up -d --wait ksqldb` on a Docker host',
    );
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

const commands: Record<string, () => Promise<number>> = {
  async check() {
    const named = loadNamedSchemas();
    const problems = checkStatements(
      statements(),
      (k: TopicKey) => expand(TOPICS[k].valueRecord, named),
      config.LIVE_TOPIC_PREFIX,
    );
    for (const p of problems) console.log(p);
    console.log(problems.length ? `${problems.length} problem(s)` : `${statements().length} statements check out`);
    return problems.length ? 1 : 0;
  },

  apply: () =>
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
      return 0;
    }),

  query: () =>
    withClient(async (client) => {
      const sql = positionals[1] ?? usageError(TOOL, 'query needs a pull query in quotes');
      const { columns, rows } = await pull(client, sql);
      console.log(formatTable(columns, rows));
      return 0;
    }),

  push: () =>
    withClient(async (client) => {
      const sql = positionals[1] ?? usageError(TOOL, 'push needs a push query in quotes (… EMIT CHANGES)');
      const limit = values.limit ? Number(values.limit) : undefined;
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
          if (limit !== undefined && seen >= limit && queryId) void client.terminatePushQuery(queryId);
        }
      });
      if (error) throw new Error(`ksqlDB refused the query: ${error.message}`);
      return 0;
    }),

  'top-streams': () =>
    withClient(async (client) => {
      const day = values.day ?? new Date().toISOString().slice(0, 10);
      const start = Date.parse(`${day}T00:00:00Z`);
      if (!Number.isFinite(start)) usageError(TOOL, `--day: "${day}" is not YYYY-MM-DD`);
      const { columns, rows } = await pull(
        client,
        `SELECT streamId, peak_viewers FROM peak_viewers_daily WHERE WINDOWSTART = ${start}`,
      );
      const ranked = rankByPeak(columns, rows, values.limit ? Number(values.limit) : 10);
      console.log(formatTable(['rank', 'stream', 'peak viewers'], ranked));
      return 0;
    }),

  describe: () =>
    withClient(async (client) => {
      const d = await client.describeSource(
        positionals[1] ?? usageError(TOOL, 'describe needs a stream or table name'),
      );
      console.log(
        formatTable(
          ['column', 'type'],
          d.fields.map((f) => [f.name, f.schema.type]),
        ),
      );
      return 0;
    }),
};

const command = positionals[0];
const run = command ? commands[command] : undefined;
if (!run) usageError(TOOL, command ? `unknown command "${command}"` : 'which command?');
try {
  process.exit(await run());
} catch (err) {
  console.error(`ksql ${command}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
