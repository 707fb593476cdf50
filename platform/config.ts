import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * Every process reads `process.env` in exactly one place: its config module, built on this
 * helper. All bad variables are reported at once so an operator fixes them in one go.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const got = env[name];
    return `${name}: ${issue.message}${got === undefined ? ' (not set)' : ` (got "${redactIfSecret(name, got)}")`}`;
  });
  throw new ConfigError(problems);
}

const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY$/i;
function redactIfSecret(name: string, value: string): string {
  return SECRET_NAME.test(name) ? '[redacted]' : value;
}

/** Reusable field parsers with the defaults and meaning written next to them. */
const keyspaceName = z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'a Cassandra keyspace name (lower case, digits, _)');

const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export const env = {
  port: (def: number) => z.coerce.number().int().min(1).max(65535).default(def),
  /** A port this process listens on; 0 picks a free one, which the service logs. */
  listenPort: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  /** Names what belongs to this process alone (its consumer groups, its jobs); unique per process unless set. */
  instanceId: () =>
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default(() => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`),
  int: (def: number, min = 0) => z.coerce.number().int().min(min).default(def),
  str: (def: string) => z.string().min(1).default(def),
  /** A Cassandra keyspace name, as CQL takes it unquoted; without a default, optional. */
  keyspace: (def: string) => keyspaceName.default(def),
  optionalKeyspace: () => keyspaceName.optional(),
  list: (def: string) => z.string().default(def).transform(splitList).pipe(z.array(z.string()).min(1)),
  /** A comma-separated list that may be empty (the default), each item checked by `item`. */
  optionalList: <T extends z.ZodType<string, string>>(item: T) =>
    z.string().default('').transform(splitList).pipe(z.array(item)),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  logLevel: () => z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
};
