/**
 * `npm run schemas:freeze`: records the current value schema of every topic as its next frozen
 * version (schemas/frozen/<topic>/vN.avsc) when it differs from the newest frozen one. Frozen
 * files are never edited; the compatibility spec registers them in order and proves the current
 * schema can read them all. Run it when a schema change ships.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expand, loadNamedSchemas } from './load.ts';
import { TOPICS } from './topics.ts';

export const FROZEN_DIR = resolve(import.meta.dirname, 'frozen');

export function frozenVersions(topicBase: string): Array<{ version: number; schema: Record<string, unknown> }> {
  const dir = join(FROZEN_DIR, topicBase);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^v(\d+)\.avsc$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      version: Number(m[1]),
      schema: JSON.parse(readFileSync(join(dir, m[0]), 'utf8')) as Record<string, unknown>,
    }))
    .sort((a, b) => a.version - b.version);
}

if (process.argv[1] === import.meta.filename) {
  const named = loadNamedSchemas();
  for (const spec of Object.values(TOPICS)) {
    const current = expand(spec.valueRecord, named);
    const versions = frozenVersions(spec.base);
    const latest = versions.at(-1);
    if (latest && JSON.stringify(latest.schema) === JSON.stringify(current)) continue;
    const dir = join(FROZEN_DIR, spec.base);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `v${(latest?.version ?? 0) + 1}.avsc`);
    writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
    console.log(`froze ${file}`);
  }
}
