/**
 * `npm run sql -- -e "<SQL>"`: SQL over the Parquet archive (sinks/archive) in an embedded DuckDB,
 * with a view per topic and per event type (views.ts). Read-only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option } from '@commander-js/extra-typings';
import { run, tool, usageError } from '../../platform/cli.ts';
import { REPO_ROOT, dataPath } from '../../platform/paths.ts';
import { ArchiveEngine } from './engine.ts';
import { format, type Format } from './format.ts';

const program = tool({
  name: 'sql',
  command: 'npm run sql --',
  description:
    'SQL (DuckDB) over the Parquet archive of every topic: a view per topic (chat_messages, ' +
    'stream_lifecycle, viewer_heartbeats, ...) and per event type (chat_message_sent, stream_ended, ...).',
  examples: [
    'npm run sql -- --views                                   # the views and their topics',
    'npm run sql -- -e "SELECT payload_type, count(*) FROM chat_messages GROUP BY ALL"',
    'npm run sql -- -q chat_per_minute                        # a saved query (analytics/queries/)',
    'npm run sql -- -f my-question.sql --format csv > answer.csv',
  ],
  notes:
    'The archive is ARCHIVE_ROOT (default .data/archive), or --archive. A SQL error prints the\n' +
    "engine's message (with the line it points at) and exits 1.",
});

program
  .option('-e, --execute <sql>', 'the query to run')
  .option('-f, --file <path>', 'run the SQL in this file')
  .option('-q, --query <name>', 'run a saved query, analytics/queries/<name>.sql')
  .option('--views', 'list the views and the topics they read')
  .addOption(
    new Option('--format <f>', 'how to print rows').choices(['table', 'csv', 'json'] as const).default('table'),
  )
  .addOption(
    new Option('--archive <dir>', 'the archive root').env('ARCHIVE_ROOT').default(dataPath('archive'), '.data/archive'),
  )
  .action(async (opts) => {
    const given = [opts.execute, opts.file, opts.query].filter((x) => x !== undefined).length;
    if (given > 1) usageError(program, 'give one of -e, -f and -q');
    if (given === 0 && !opts.views) usageError(program, 'what to run? -e <sql>, -f <file>, -q <name> or --views');
    const sql =
      opts.execute ??
      (opts.file !== undefined
        ? await readFile(opts.file, 'utf8')
        : opts.query !== undefined
          ? await readFile(join(REPO_ROOT, 'analytics', 'queries', `${opts.query}.sql`), 'utf8')
          : undefined);
    const engine = await ArchiveEngine.open(opts.archive);
    try {
      if (sql === undefined) {
        const rows = engine.views.map((v) => [v.view, v.kind, v.topic]);
        console.log(format(opts.format as Format, ['view', 'kind', 'topic'], rows));
        return;
      }
      const result = await engine.query(sql);
      console.log(format(opts.format as Format, result.columns, result.rows));
    } finally {
      engine.close();
    }
  });

await run(program);
