import avro from 'avsc';

/**
 * How an event becomes one row of the Parquet archive: every field of the writer's Avro schema,
 * flattened into columns, after the record's Kafka coordinates.
 *
 *   kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, kafka_key, schema_id
 *   <field>                      a top-level field of the value (eventId, occurredAt, streamId, ...)
 *   <field>_<sub>                a field of a nested record (a nullable record: every column nullable)
 *   payload_type                 a union of records: the branch's short name (ChatMessageSent)
 *   <Branch>_<field>             that branch's fields (ChatMessageSent_content); null in other rows
 *
 * Scalars keep their type (timestamp-millis becomes TIMESTAMP, an enum its symbol); an array of
 * scalars is a LIST; anything deeper (maps, arrays of records, mixed unions) is its JSON text.
 * Columns come from the schema alone, never from the values, so every record written with one
 * schema id has the same columns, and a field added by a later schema is a new column (readers
 * take files of both with DuckDB's `union_by_name`).
 */
export type Scalar = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'FLOAT' | 'BOOLEAN' | 'TIMESTAMP' | 'BLOB';
/** A DuckDB column type: a scalar, a list of one (`VARCHAR[]`), or JSON text. */
export type SqlType = Scalar | `${Scalar}[]` | 'JSON';

export interface Column {
  name: string;
  type: SqlType;
  /** The column's value from the decoded Avro value: JSON-ready (epoch ms for a TIMESTAMP). */
  get(value: unknown): unknown;
}

export const KAFKA_COLUMNS = [
  { name: 'kafka_topic', type: 'VARCHAR' },
  { name: 'kafka_partition', type: 'INTEGER' },
  { name: 'kafka_offset', type: 'BIGINT' },
  { name: 'kafka_timestamp', type: 'TIMESTAMP' },
  { name: 'kafka_key', type: 'VARCHAR' },
  { name: 'schema_id', type: 'INTEGER' },
] as const satisfies ReadonlyArray<{ name: string; type: SqlType }>;

/** The column naming a union-of-records branch (`payload_type` for the field `payload`). */
export const branchColumn = (field: string): string => `${field}_type`;

/** timestamp-millis kept as a number, but recognisable when the columns are planned. */
class TimestampMillis extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): unknown {
    return val;
  }
  protected override _toValue(val: unknown): unknown {
    return val;
  }
  protected override _resolve(type: avro.Type): unknown {
    return avro.Type.isType(type, 'long', 'logical:timestamp-millis') ? (v: unknown) => v : undefined;
  }
}

/** A writer schema (JSON, as the registry holds it) parsed for the archive. */
export function archiveType(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, {
    wrapUnions: 'auto',
    omitRecordMethods: true,
    logicalTypes: { 'timestamp-millis': TimestampMillis },
  });
}

const shortName = (t: avro.Type): string => (t.name ?? t.typeName).split('.').pop()!;

function scalarOf(t: avro.Type): Scalar | undefined {
  switch (t.typeName) {
    case 'string':
    case 'enum':
      return 'VARCHAR';
    case 'int':
      return 'INTEGER';
    case 'long':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'float':
      return 'FLOAT';
    case 'boolean':
      return 'BOOLEAN';
    case 'bytes':
    case 'fixed':
      return 'BLOB';
    case 'logical:timestamp-millis':
      return 'TIMESTAMP';
    default:
      return t instanceof avro.types.LogicalType ? scalarOf(t.underlyingType) : undefined;
  }
}

const json = (v: unknown): unknown =>
  v === null || v === undefined
    ? null
    : JSON.stringify(v, (_k, x: unknown) => (Buffer.isBuffer(x) ? x.toString('base64') : x));

const scalarValue = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('base64') : (v ?? null));

type Get = (value: unknown) => unknown;

/** The columns of a writer schema's values, Kafka coordinates excluded (they come from the record). */
export function columnsOf(type: avro.Type): Column[] {
  if (!(type instanceof avro.types.RecordType)) return [{ name: 'value', type: columnType(type), get: getter(type) }];
  return recordColumns(type, '', (v) => v);
}

function columnType(t: avro.Type): SqlType {
  const s = scalarOf(t);
  if (s) return s;
  if (t instanceof avro.types.ArrayType) {
    const item = scalarOf(t.itemsType);
    if (item) return `${item}[]`;
  }
  return 'JSON';
}

function getter(t: avro.Type): Get {
  const s = scalarOf(t);
  if (s) return scalarValue;
  if (t instanceof avro.types.ArrayType && scalarOf(t.itemsType))
    return (v) => (Array.isArray(v) ? v.map(scalarValue) : null);
  return json;
}

function recordColumns(record: avro.types.RecordType, prefix: string, parent: Get): Column[] {
  const out: Column[] = [];
  for (const f of record.fields) {
    const name = prefix ? `${prefix}_${f.name}` : f.name;
    const get: Get = (v) => {
      const r = parent(v) as Record<string, unknown> | null | undefined;
      return r == null ? null : r[f.name];
    };
    out.push(...fieldColumns(f.type, name, prefix, get));
  }
  return out;
}

function fieldColumns(t: avro.Type, name: string, prefix: string, get: Get): Column[] {
  if (t instanceof avro.types.RecordType) return recordColumns(t, name, get);
  if (t instanceof avro.types.UnwrappedUnionType || t instanceof avro.types.WrappedUnionType) {
    const branches = t.types.filter((b) => b.typeName !== 'null');
    const wrapped = t instanceof avro.types.WrappedUnionType;
    // A wrapped union's value is { fullName: value }, or null.
    const inner = (v: unknown): unknown => {
      const u = get(v);
      if (u == null || !wrapped) return u;
      return Object.values(u as Record<string, unknown>)[0];
    };
    if (branches.length === 1) return fieldColumns(branches[0]!, name, prefix, inner);
    if (branches.length > 1 && branches.every((b) => b instanceof avro.types.RecordType)) {
      const branchOf = (v: unknown): string | null => {
        const u = get(v);
        if (u == null) return null;
        if (wrapped) return (Object.keys(u as object)[0] ?? '').split('.').pop() ?? null;
        const match = branches.find((b) => b.isValid(u));
        return match ? shortName(match) : null;
      };
      const out: Column[] = [{ name: branchColumn(name), type: 'VARCHAR', get: branchOf }];
      for (const b of branches) {
        const short = shortName(b);
        const only: Get = (v) => (branchOf(v) === short ? inner(v) : null);
        out.push(...recordColumns(b as avro.types.RecordType, prefix ? `${prefix}_${short}` : short, only));
      }
      return out;
    }
  }
  const convert = getter(t);
  return [{ name, type: columnType(t), get: (v) => convert(get(v)) }];
}

/**
 * The columns of a file holding records of several writer schemas: Kafka's first, then each
 * schema's in order of schema id, a name already taken keeping its place (the later schema's
 * type wins: BACKWARD_TRANSITIVE only widens).
 */
export function mergeColumns(bySchema: ReadonlyArray<readonly Column[]>): Column[] {
  const merged = new Map<string, Column>();
  for (const columns of bySchema) for (const c of columns) merged.set(c.name, c);
  return [...merged.values()];
}
