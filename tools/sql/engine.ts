import { DuckDBInstance, type DuckDBConnection, type Json } from '@duckdb/node-api';
import { archiveGlob } from '../../domain/archive/layout.ts';
import { expand, loadNamedSchemas } from '../../schemas/load.ts';
import { TOPICS } from '../../schemas/topics.ts';
import { literal, topicView, topicViewSql, typeView, typeViewsSql } from './views.ts';

export interface QueryResult {
  columns: string[];
  rows: Json[][];
}

/** The event types of a catalog topic: its payload union's branches, or its record's name. */
function typesOf(valueRecord: string, named: ReturnType<typeof loadNamedSchemas>): string[] {
  const schema = expand(valueRecord, named) as { name: string; fields: Array<{ name: string; type: unknown }> };
  const payload = schema.fields.find((f) => f.name === 'payload');
  const short = (n: string): string => n.split('.').pop()!;
  if (payload && Array.isArray(payload.type))
    return payload.type.map((b) => short(typeof b === 'string' ? b : (b as { name: string }).name));
  if (payload && typeof payload.type === 'object') return [short((payload.type as { name: string }).name)];
  return [short(schema.name)];
}

/**
 * An embedded DuckDB over the archive: a view per topic that has files, and per event type
 * (views.ts). Read-only: nothing here writes the archive.
 */
export class ArchiveEngine {
  readonly views: Array<{ view: string; topic: string; kind: 'topic' | 'type' }> = [];

  private constructor(
    private readonly db: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async open(root: string): Promise<ArchiveEngine> {
    const db = await DuckDBInstance.create(':memory:');
    const engine = new ArchiveEngine(db, await db.connect());
    await engine.createViews(root);
    return engine;
  }

  private async createViews(root: string): Promise<void> {
    const named = loadNamedSchemas();
    for (const spec of Object.values(TOPICS)) {
      const files = await this.query(`SELECT count(*) AS n FROM glob(${literal(archiveGlob(root, spec.base))})`);
      if (Number(files.rows[0]![0]) === 0) continue;
      await this.conn.run(topicViewSql(root, spec.base));
      this.views.push({ view: topicView(spec.base), topic: spec.base, kind: 'topic' });
      const described = await this.query(`DESCRIBE ${topicView(spec.base)}`);
      const columns = described.rows.map((r) => r[0] as string);
      const types = typesOf(spec.valueRecord, named);
      for (const sql of typeViewsSql({ topic: spec.base, types, columns })) await this.conn.run(sql);
      for (const t of types)
        if (typeView(t) !== topicView(spec.base))
          this.views.push({ view: typeView(t), topic: spec.base, kind: 'type' });
    }
  }

  /**
   * Runs SQL, several statements in order: the last one's rows. Values are JSON-ready: timestamps
   * as text, 64-bit integers as numbers while exact (as text beyond 2^53).
   */
  async query(sql: string): Promise<QueryResult> {
    const statements = await this.conn.extractStatements(sql);
    if (statements.count === 0) return { columns: [], rows: [] };
    let reader;
    for (let i = 0; i < statements.count; i++) reader = await (await statements.prepare(i)).runAndReadAll();
    const wide = reader!.columnTypes().map((t) => /^(U?BIGINT|U?HUGEINT)$/.test(String(t)));
    const rows = reader!
      .getRowsJson()
      .map((r) =>
        r.map((v, i) => (wide[i] && typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : v)),
      );
    return { columns: reader!.columnNames(), rows };
  }

  close(): void {
    this.conn.closeSync();
    this.db.closeSync();
  }
}
