/**
 * Generates TypeScript types from the .avsc files: `npm run gen:types`. The .avsc files are the
 * single source of truth; `--check` fails when the generated file is stale (part of `npm run check`).
 *
 * Mapping: records -> interfaces; enums -> string-literal unions; ["null", T] -> T | null;
 * long and timestamp-millis -> number (epoch ms fits in 2^53); a union of records -> a
 * discriminated union tagged by `type` (the record's short name), which the codec maps to and
 * from Avro's branch names.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadNamedSchemas, type AvroSchema } from './load.ts';

const OUT = resolve(import.meta.dirname, 'generated', 'events.ts');

const shortName = (full: string): string => full.split('.').pop() ?? full;

function tsType(s: AvroSchema, owner: string, field: string, extra: string[]): string {
  if (typeof s === 'string') {
    switch (s) {
      case 'null':
        return 'null';
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        return 'number';
      case 'bytes':
        return 'Buffer';
      case 'string':
        return 'string';
      default:
        return shortName(s);
    }
  }
  if (Array.isArray(s)) {
    const nonNull = s.filter((b) => b !== 'null');
    const nullable = nonNull.length !== s.length;
    const allNamedRecords = nonNull.every(
      (b) => typeof b === 'string' && !['string', 'int', 'long', 'boolean', 'double', 'float', 'bytes'].includes(b),
    );
    if (!nullable && allNamedRecords) {
      const alias = `${shortName(owner)}${field[0]?.toUpperCase()}${field.slice(1)}`;
      extra.push(
        `/** One of the kinds ${shortName(owner)}.${field} can hold, tagged by \`type\`. */\nexport type ${alias} =\n` +
          nonNull.map((b) => `  | ({ type: '${shortName(b as string)}' } & ${shortName(b as string)})`).join('\n') +
          ';\n',
      );
      return alias;
    }
    const parts = nonNull.map((b) => tsType(b, owner, field, extra));
    return [...parts, ...(nullable ? ['null'] : [])].join(' | ');
  }
  const t = s.type as AvroSchema;
  if (t === 'array') return `${wrap(tsType(s.items as AvroSchema, owner, field, extra))}[]`;
  if (t === 'map') return `Record<string, ${tsType(s.values as AvroSchema, owner, field, extra)}>`;
  return tsType(t, owner, field, extra);
}

const wrap = (t: string): string => (t.includes('|') ? `(${t})` : t);

const doc = (text: unknown, indent = ''): string => (typeof text === 'string' ? `${indent}/** ${text} */\n` : '');

export function generate(): string {
  const named = [...loadNamedSchemas().values()].sort((a, b) => a.name.localeCompare(b.name));
  const blocks: string[] = [];
  for (const { name, schema } of named) {
    const extra: string[] = [];
    if (schema.type === 'enum') {
      const symbols = schema.symbols as string[];
      blocks.push(
        `${doc(schema.doc)}export type ${shortName(name)} = ${symbols.map((x) => `'${x}'`).join(' | ')};\n` +
          `export const ${shortName(name)}Values = [${symbols.map((x) => `'${x}'`).join(', ')}] as const;\n`,
      );
    } else if (schema.type === 'record') {
      const fields = (schema.fields as Array<Record<string, unknown>>)
        .map(
          (f) =>
            `${doc(f.doc, '  ')}  ${String(f.name)}: ${tsType(f.type as AvroSchema, name, String(f.name), extra)};`,
        )
        .join('\n');
      blocks.push(`${doc(schema.doc)}export interface ${shortName(name)} {\n${fields}\n}\n${extra.join('\n')}`);
    }
  }
  const body = `// Generated from schemas/avro by schemas/codegen.ts. DO NOT EDIT: change the .avsc and run \`npm run gen:types\`.\n/* eslint-disable */\n\n${blocks.join('\n')}`;
  const prettier = resolve(import.meta.dirname, '..', 'node_modules', '.bin', 'prettier');
  return execFileSync(prettier, ['--stdin-filepath', OUT], { input: body }).toString();
}

if (process.argv[1] === import.meta.filename) {
  const code = generate();
  if (process.argv.includes('--check')) {
    const current = readFileSync(OUT, 'utf8');
    if (current !== code) {
      console.error('schemas/generated/events.ts is stale: run `npm run gen:types`.');
      process.exit(1);
    }
  } else {
    writeFileSync(OUT, code);
    console.log(`wrote ${OUT}`);
  }
}
