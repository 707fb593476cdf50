import { open, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Column, SqlType } from '../../domain/archive/columns.ts';
import { tempName } from '../../domain/archive/layout.ts';

/**
 * Writes one archive file with an embedded DuckDB: the rows go to a newline-delimited JSON file
 * beside the target, DuckDB reads it with the columns' declared types (nothing is inferred from
 * the values) and COPYs it, ordered by offset, to a hidden temporary Parquet file, which is synced
 * and then renamed to its final name. The same rows give the same file; a crash leaves at most a
 * hidden `.tmp` file, which no reader's glob matches.
 */
export class ParquetWriter {
  private constructor(
    private readonly db: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /** One thread: the archive's writes queue one after another anyway, and files stay byte-identical. */
  static async open(): Promise<ParquetWriter> {
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    return new ParquetWriter(db, await db.connect());
  }

  /**
   * Writes `rows` as `<dir>/<name>`; `stillOurs` is asked just before the rename (a partition
   * taken away meanwhile leaves no file). Returns the file's size, or undefined when abandoned.
   */
  async write(
    dir: string,
    name: string,
    columns: readonly Column[],
    rows: ReadonlyArray<Record<string, unknown>>,
    stillOurs: () => boolean = () => true,
  ): Promise<number | undefined> {
    await mkdir(dir, { recursive: true });
    const tmp = `${dir}/${tempName(name)}`;
    const json = `${tmp}.json`;
    try {
      await writeFile(json, rows.map((r) => JSON.stringify(r)).join('\n'));
      await this.conn.run(copySql(json, tmp, columns));
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (!stillOurs()) {
        await rm(tmp, { force: true });
        return undefined;
      }
      await rename(tmp, `${dir}/${name}`);
      await syncDir(dir);
      return (await stat(`${dir}/${name}`)).size;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    } finally {
      await rm(json, { force: true });
    }
  }

  close(): void {
    this.conn.closeSync();
    this.db.closeSync();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
export const sqlIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** How a column travels in the JSON lines: timestamps as epoch ms, blobs as base64, JSON as text. */
function jsonType(t: SqlType): string {
  if (t === 'TIMESTAMP') return 'BIGINT';
  if (t === 'TIMESTAMP[]') return 'BIGINT[]';
  if (t === 'JSON' || t === 'BLOB') return 'VARCHAR';
  if (t === 'BLOB[]') return 'VARCHAR[]';
  return t;
}

function selectOf(c: Column): string {
  const id = sqlIdent(c.name);
  switch (c.type) {
    case 'TIMESTAMP':
      return `epoch_ms(${id}) AS ${id}`;
    case 'TIMESTAMP[]':
      return `list_transform(${id}, x -> epoch_ms(x)) AS ${id}`;
    case 'BLOB':
      return `from_base64(${id}) AS ${id}`;
    case 'BLOB[]':
      return `list_transform(${id}, x -> from_base64(x)) AS ${id}`;
    default:
      return id;
  }
}

/** The COPY statement for one file (exported for its unit spec). */
export function copySql(json: string, target: string, columns: readonly Column[]): string {
  const declared = columns.map((c) => `${sqlString(c.name)}: ${sqlString(jsonType(c.type))}`).join(', ');
  return (
    `COPY (SELECT ${columns.map(selectOf).join(', ')} ` +
    `FROM read_json(${sqlString(json)}, format = 'newline_delimited', columns = {${declared}}) ` +
    `ORDER BY kafka_offset) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`
  );
}
