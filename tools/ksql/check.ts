import { TOPICS, type TopicKey } from '../../schemas/topics.ts';
import { definedSource, type KsqlStatement } from './statements.ts';

/**
 * Checks the statements against the Avro schemas in the repository, for machines without ksqlDB:
 * every catalog topic is declared as a stream, and every `payload->Type->field` path and every
 * plain column a single-source query aggregates or groups by exists in that topic's schema
 * (ksqlDB resolves unquoted names case-insensitively, and so does this check).
 */
type Schema = Record<string, unknown>;

interface SourceInfo {
  /** The root record of the topic's values. */
  record: Schema;
}

function fieldsOf(record: Schema): Schema[] {
  return (record.fields as Schema[] | undefined) ?? [];
}

function field(record: Schema, name: string): Schema | undefined {
  return fieldsOf(record).find((f) => String(f.name).toLowerCase() === name.toLowerCase());
}

/** The record types a union field can hold, by simple name. */
function unionBranches(f: Schema): Map<string, Schema> {
  const types = Array.isArray(f.type) ? (f.type as unknown[]) : [];
  const out = new Map<string, Schema>();
  for (const t of types) {
    if (t && typeof t === 'object' && (t as Schema).type === 'record')
      out.set(String((t as Schema).name).toLowerCase(), t as Schema);
  }
  return out;
}

const WORDS = new Set(['count', 'as', 'end', 'then', 'when', 'case', 'null', 'not', 'is', 'and', 'or']);

export function checkStatements(
  statements: KsqlStatement[],
  schemaOf: (key: TopicKey) => Schema,
  topicPrefix = '',
): string[] {
  const problems: string[] = [];
  const sources = new Map<string, SourceInfo>();
  const declared = new Set<TopicKey>();
  for (const { file, sql } of statements) {
    const def = definedSource(sql);
    if (!def) {
      problems.push(`${file}: not a CREATE STREAM/TABLE statement: ${sql.slice(0, 60)}`);
      continue;
    }
    const topic = /KAFKA_TOPIC\s*=\s*'([^']+)'/i.exec(sql)?.[1];
    if (def.kind === 'STREAM' && topic) {
      const key = (Object.keys(TOPICS) as TopicKey[]).find((k) => `${topicPrefix}${TOPICS[k].base}` === topic);
      if (!key) {
        problems.push(`${file}: ${def.name} reads ${topic}, which is not a platform topic`);
        continue;
      }
      if (!/VALUE_FORMAT\s*=\s*'AVRO'/i.test(sql)) problems.push(`${file}: ${def.name} must use VALUE_FORMAT 'AVRO'`);
      declared.add(key);
      sources.set(def.name, { record: schemaOf(key) });
      continue;
    }
    const from = [...sql.matchAll(/\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)/gi)].map((m) => m[1]!.toLowerCase());
    for (const name of from) {
      if (!sources.has(name) && !statements.some((s) => definedSource(s.sql)?.name === name))
        problems.push(`${file}: ${def.name} reads ${name}, which no statement defines`);
    }
    const streams = from.map((n) => sources.get(n)).filter((s): s is SourceInfo => Boolean(s));
    for (const m of sql.matchAll(/\b([A-Za-z_]+)->([A-Za-z_]+)(?:->([A-Za-z_]+))?/g)) {
      const [path, col, branch, leaf] = m as unknown as [string, string, string, string | undefined];
      const ok = streams.some(({ record }) => {
        const f = field(record, col);
        if (!f) return false;
        const b = unionBranches(f).get(branch.toLowerCase());
        return Boolean(b && (leaf === undefined || field(b, leaf)));
      });
      if (!ok) problems.push(`${file}: ${def.name}: ${path} is not in the schema of ${from.join(', ')}`);
    }
    if (from.length === 1 && streams.length === 1) {
      const record = streams[0]!.record;
      const plain = [
        ...[...sql.matchAll(/\b(?:LATEST_BY_OFFSET|MAX|MIN|SUM|COUNT_DISTINCT)\(\s*([A-Za-z_]+)\s*[,)]/gi)].map(
          (m) => m[1]!,
        ),
        ...[...sql.matchAll(/\bGROUP BY\s+([A-Za-z_]+)/gi)].map((m) => m[1]!),
        ...[...sql.matchAll(/\bUNIX_TIMESTAMP\(\s*([A-Za-z_]+)\s*\)/gi)].map((m) => m[1]!),
      ].filter((c) => !WORDS.has(c.toLowerCase()));
      for (const c of plain) {
        if (!field(record, c)) problems.push(`${file}: ${def.name}: column ${c} is not in the schema of ${from[0]}`);
      }
    }
  }
  for (const k of Object.keys(TOPICS) as TopicKey[]) {
    if (!declared.has(k)) problems.push(`no stream declares ${topicPrefix}${TOPICS[k].base}`);
  }
  return problems;
}
