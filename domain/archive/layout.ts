/**
 * Where the Parquet archive keeps each record: Hive-style folders by topic and hour, one file per
 * contiguous offset range of one partition, named by that range.
 *
 *   <root>/topic=<base topic>/hour=<YYYY-MM-DDTHH>/<partition>-<firstOffset>-<lastOffset>.parquet
 *
 * The hour is the record's Kafka timestamp (UTC), so the same record always lands in the same
 * folder. A file is written as `.<name>.tmp` beside its final name and renamed when complete:
 * Spark, Trino, DuckDB and pandas all skip names that start with a dot, and the archive's own
 * glob matches `*.parquet` only. The names alone tell how far each partition is archived.
 */
export interface FileRange {
  partition: number;
  first: bigint;
  last: bigint;
}

/** `2026-12-07T14` for any time in that UTC hour. */
export const hourOf = (ms: number): string => new Date(ms).toISOString().slice(0, 13);

export const fileName = (r: FileRange): string => `${r.partition}-${r.first}-${r.last}.parquet`;

export const tempName = (name: string): string => `.${name}.tmp`;

const FILE = /^(\d+)-(\d+)-(\d+)\.parquet$/;
const TEMP = /^\.(\d+)-\d+-\d+\.parquet\.tmp(\.json)?$/;

export function parseFileName(name: string): FileRange | undefined {
  const m = FILE.exec(name);
  if (!m) return undefined;
  return { partition: Number(m[1]), first: BigInt(m[2]!), last: BigInt(m[3]!) };
}

/** The partition a left-over temporary file (a writer killed mid-file) belongs to. */
export function tempFilePartition(name: string): number | undefined {
  const m = TEMP.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Joins with '/' (a local root or an object-store URL such as s3://bucket/archive). */
const join = (...parts: string[]): string => parts.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p)).join('/');

export const topicDir = (root: string, topic: string): string => join(root, `topic=${topic}`);
export const hourDir = (root: string, topic: string, hour: string): string =>
  join(topicDir(root, topic), `hour=${hour}`);
export const hourFromDir = (dir: string): string | undefined => /^hour=(.+)$/.exec(dir)?.[1];

/** Every archived file of a topic (or of all topics, `*`), for DuckDB's read_parquet. */
export const archiveGlob = (root: string, topic = '*'): string => join(topicDir(root, topic), 'hour=*', '*.parquet');

/**
 * A partition's records cut where the hour changes: each run becomes one file. Runs follow the
 * records' order, so a record with an earlier timestamp after a later one starts a new run
 * rather than reordering offsets.
 */
export function runsByHour<R extends { offset: string; timestamp: number }>(
  records: readonly R[],
): Array<{ hour: string; records: R[] }> {
  const runs: Array<{ hour: string; records: R[] }> = [];
  for (const r of records) {
    const hour = hourOf(r.timestamp);
    const last = runs[runs.length - 1];
    if (last && last.hour === hour) last.records.push(r);
    else runs.push({ hour, records: [r] });
  }
  return runs;
}

/** The highest offset archived per partition, from a topic's file names. */
export function archivedThrough(names: Iterable<string>): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const n of names) {
    const r = parseFileName(n);
    if (!r) continue;
    const seen = out.get(r.partition);
    if (seen === undefined || r.last > seen) out.set(r.partition, r.last);
  }
  return out;
}
