import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Reads `schemas/avro/**.avsc` (one named type per file) and expands a root record into a
 * self-contained schema: every named type it references is inlined at its first use and
 * referred to by full name afterwards, as Avro requires. The expansion keeps `doc`, defaults
 * and enum defaults exactly as written, which is what gets registered.
 */
export type AvroSchema = string | AvroSchema[] | { [k: string]: unknown };

export const AVRO_DIR = resolve(import.meta.dirname, 'avro');

export interface NamedSchema {
  name: string; // full name, e.g. live.stream.StreamCreated
  file: string;
  schema: Record<string, unknown>;
}

function fullName(s: Record<string, unknown>): string {
  const name = s.name as string;
  const ns = s.namespace as string | undefined;
  return name.includes('.') || !ns ? name : `${ns}.${name}`;
}

export function loadNamedSchemas(dir = AVRO_DIR): Map<string, NamedSchema> {
  const out = new Map<string, NamedSchema>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.avsc')) {
        const schema = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
        const name = fullName(schema);
        if (out.has(name)) throw new Error(`${name} is defined twice (${out.get(name)?.file} and ${p})`);
        if (!entry.name.startsWith(String(schema.name).split('.').pop() ?? '')) {
          throw new Error(`${p} must be named after the type it defines (${name})`);
        }
        out.set(name, { name, file: p, schema });
      }
    }
  };
  walk(dir);
  return out;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

export function expand(root: string, named: Map<string, NamedSchema>): Record<string, unknown> {
  const defined = new Set<string>();
  const visit = (s: AvroSchema, ns: string | undefined): AvroSchema => {
    if (typeof s === 'string') {
      if (PRIMITIVES.has(s)) return s;
      const full = s.includes('.') ? s : ns ? `${ns}.${s}` : s;
      if (defined.has(full)) return full;
      const def = named.get(full);
      if (!def) throw new Error(`unknown Avro type "${s}" referenced under ${root}`);
      return visit(def.schema as AvroSchema, undefined);
    }
    if (Array.isArray(s)) return s.map((b) => visit(b, ns));
    const obj = { ...s };
    const type = obj.type;
    if (type === 'record' || type === 'enum' || type === 'fixed') {
      const full = fullName(obj);
      defined.add(full);
      const childNs = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
      if (type === 'record') {
        obj.fields = (obj.fields as Array<Record<string, unknown>>).map((f) => ({
          ...f,
          type: visit(f.type as AvroSchema, childNs),
        }));
      }
      return obj;
    }
    if (type === 'array') obj.items = visit(obj.items as AvroSchema, ns);
    else if (type === 'map') obj.values = visit(obj.values as AvroSchema, ns);
    else if (typeof type !== 'string' || !PRIMITIVES.has(type)) obj.type = visit(type as AvroSchema, ns);
    return obj;
  };
  const def = named.get(root);
  if (!def) throw new Error(`no .avsc defines ${root}`);
  return visit(def.schema as AvroSchema, undefined) as Record<string, unknown>;
}
