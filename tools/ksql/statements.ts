import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../platform/paths.ts';

/**
 * The version-controlled ksqlDB statements in analytics/ksql/*.sql, in file order, one statement
 * each, comments removed and ${TOPIC_PREFIX} replaced, ready to send one at a time (the server's
 * statement endpoint takes one per request through ksqldb-client).
 */
export const STATEMENTS_DIR = resolve(REPO_ROOT, 'analytics/ksql');

export interface KsqlStatement {
  file: string;
  sql: string;
}

/** Splits a script on `;` outside quotes, dropping `--` comments and blank statements. */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (quote) {
      current += ch;
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === '-' && script[i + 1] === '-') {
      while (i < script.length && script[i] !== '\n') i++;
      current += '\n';
    } else if (ch === ';') {
      const s = current.replace(/\s+/g, ' ').trim();
      if (s) out.push(`${s};`);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) throw new Error(`statement without a closing semicolon: ${current.trim().slice(0, 80)}`);
  return out;
}

export function loadStatements(vars: { TOPIC_PREFIX: string }, dir = STATEMENTS_DIR): KsqlStatement[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .flatMap((file) =>
      splitStatements(readFileSync(join(dir, file), 'utf8')).map((sql) => ({
        file,
        sql: sql.replaceAll('${TOPIC_PREFIX}', vars.TOPIC_PREFIX),
      })),
    );
}

/** `CREATE STREAM|TABLE [IF NOT EXISTS] name`: the source a statement defines. */
export function definedSource(sql: string): { kind: 'STREAM' | 'TABLE'; name: string } | undefined {
  const m = /^CREATE\s+(STREAM|TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)/i.exec(sql);
  return m ? { kind: m[1]!.toUpperCase() as 'STREAM' | 'TABLE', name: m[2]!.toLowerCase() } : undefined;
}
