import cassandra from 'cassandra-driver';
import { z } from 'zod';
import { ConfigError, env } from './config.ts';
import { TransientError } from './errors.ts';

/**
 * The one place cassandra-driver is imported: a small client that runs prepared CQL, and sorts
 * the driver's failures into the platform's retriable / not-retriable errors. Stores built on it
 * take a `Cassandra` as a parameter and see plain values only (uuids and timeuuids as strings,
 * bigints as numbers), so the driver can be swapped.
 *
 * Unreachable, timed out, overloaded or unavailable -> TransientError: the consumer runner backs
 * off and retries without committing. Anything else (bad CQL, a missing table) is returned as it
 * was.
 */
export const cassandraEnv = {
  /** Comma-separated `host:port` contact points. */
  CASSANDRA_CONTACT_POINTS: env.list('127.0.0.1:9042'),
  CASSANDRA_LOCAL_DC: env.str('datacenter1'),
  /** Replication factor used when a process creates its keyspace (NetworkTopologyStrategy, local DC). */
  CASSANDRA_REPLICATION_FACTOR: env.int(1, 1),
  CASSANDRA_REQUEST_TIMEOUT_MS: env.int(10_000, 100),
  /** A cluster with PasswordAuthenticator (compose/docker-compose.secure.yml): both or neither. */
  CASSANDRA_USERNAME: z.string().min(1).optional(),
  CASSANDRA_PASSWORD: z.string().min(1).optional(),
};

export type CassandraConfig = { [K in keyof typeof cassandraEnv]: z.output<(typeof cassandraEnv)[K]> };

/** Where a process's keyspace keeps its copies, from cassandraEnv. */
export interface Replication {
  replicationFactor: number;
  localDc: string;
}

/** A keyspace name as CQL takes it unquoted: schema statements splice it in, so nothing else passes. */
const KEYSPACE_NAME = /^[a-z][a-z0-9_]{0,47}$/;

export type Row = Record<string, unknown>;
export interface Statement {
  query: string;
  params: unknown[];
}

const RETRIABLE_CODES = new Set<number>([
  cassandra.types.responseErrorCodes.unavailableException,
  cassandra.types.responseErrorCodes.overloaded,
  cassandra.types.responseErrorCodes.isBootstrapping,
  cassandra.types.responseErrorCodes.truncateError,
  cassandra.types.responseErrorCodes.writeTimeout,
  cassandra.types.responseErrorCodes.readTimeout,
  cassandra.types.responseErrorCodes.readFailure,
  cassandra.types.responseErrorCodes.writeFailure,
]);

/** A driver error as a platform error: TransientError when trying again later can succeed. */
export function classifyCassandraError(err: unknown, what: string): Error {
  const { errors } = cassandra;
  const transient =
    err instanceof errors.NoHostAvailableError ||
    err instanceof errors.OperationTimedOutError ||
    err instanceof errors.BusyConnectionError ||
    (err instanceof errors.ResponseError && RETRIABLE_CODES.has(err.code)) ||
    // A socket dropped mid-request surfaces as a plain DriverError or a Node socket error.
    (err instanceof errors.DriverError &&
      !(err instanceof errors.ResponseError) &&
      /connection|socket/i.test(err.message)) ||
    (err instanceof Error && 'code' in err && /^(ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH)/.test(String(err.code)));
  if (transient) return new TransientError(`cassandra ${what}: ${(err as Error).message}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

function plain(value: unknown): unknown {
  if (value instanceof cassandra.types.Uuid) return value.toString();
  if (value instanceof cassandra.types.Long) return value.toNumber();
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

export class Cassandra {
  private readonly client: cassandra.Client;
  private readonly replicaSetNames = new WeakMap<cassandra.Host[], string>();
  private readonly uniform = new WeakMap<object, { ranges: Set<unknown>; name: string | undefined }>();

  constructor(
    cfg: Pick<CassandraConfig, 'CASSANDRA_CONTACT_POINTS' | 'CASSANDRA_LOCAL_DC' | 'CASSANDRA_REQUEST_TIMEOUT_MS'> &
      Partial<Pick<CassandraConfig, 'CASSANDRA_USERNAME' | 'CASSANDRA_PASSWORD'>>,
  ) {
    if (Boolean(cfg.CASSANDRA_USERNAME) !== Boolean(cfg.CASSANDRA_PASSWORD))
      throw new ConfigError(['CASSANDRA_USERNAME and CASSANDRA_PASSWORD go together: set both or neither']);
    this.client = new cassandra.Client({
      ...(cfg.CASSANDRA_USERNAME &&
        cfg.CASSANDRA_PASSWORD && {
          authProvider: new cassandra.auth.PlainTextAuthProvider(cfg.CASSANDRA_USERNAME, cfg.CASSANDRA_PASSWORD),
        }),
      contactPoints: cfg.CASSANDRA_CONTACT_POINTS,
      localDataCenter: cfg.CASSANDRA_LOCAL_DC,
      socketOptions: { readTimeout: cfg.CASSANDRA_REQUEST_TIMEOUT_MS, connectTimeout: 5000 },
      // Back on its feet within seconds of the cluster: the default waits up to 10 minutes.
      policies: { reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(250, 5000, false) },
      queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
    });
  }

  /** Connects, retrying while the cluster is unreachable, until `deadlineMs` passes. */
  async connect(deadlineMs = 60_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.client.connect();
        return;
      } catch (err) {
        const e = classifyCassandraError(err, 'connect');
        if (!(e instanceof TransientError) || Date.now() + delay > until) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async execute(
    what: string,
    query: string,
    params: unknown[] = [],
    opts: { idempotent?: boolean } = {},
  ): Promise<Row[]> {
    try {
      const rs = await this.client.execute(query, params, { prepare: true, isIdempotent: opts.idempotent ?? false });
      return (rs.rows ?? []).map((r) => {
        const out: Row = {};
        for (const k of r.keys()) out[k] = plain(r.get(k));
        return out;
      });
    } catch (err) {
      throw classifyCassandraError(err, what);
    }
  }

  /** Every row a query returns, page by page (execute returns the first page only). */
  async scan(what: string, query: string, params: unknown[] = []): Promise<Row[]> {
    try {
      const out: Row[] = [];
      const rs = await this.client.execute(query, params, { prepare: true, isIdempotent: true, fetchSize: 5000 });
      for await (const r of rs) {
        const row: Row = {};
        for (const k of r.keys()) row[k] = plain(r.get(k));
        out.push(row);
      }
      return out;
    } catch (err) {
      throw classifyCassandraError(err, what);
    }
  }

  /**
   * An unlogged batch: callers keep every statement in one partition, where a batch is applied
   * atomically and in one round trip, or in partitions with the same replicas (`replicaSetOf`), a
   * handful at a time: the coordinator is then one of those replicas and sends nothing the
   * token-aware driver would not have, and one request carries what took several. Never across
   * replica sets (that would make the coordinator do the fan-out a client does better).
   */
  async unloggedBatch(what: string, statements: Statement[], opts: { idempotent: boolean }): Promise<void> {
    if (!statements.length) return;
    try {
      await this.client.batch(statements, { prepare: true, logged: false, isIdempotent: opts.idempotent });
    } catch (err) {
      throw classifyCassandraError(err, what);
    }
  }

  /**
   * Names the set of nodes holding the partition whose key (one text column) is `key` in
   * `keyspace`, from the driver's token map: partitions with the same name share their replicas.
   * Null when the driver has no map for the keyspace (yet).
   */
  replicaSetOf(keyspace: string, key: string): string | null {
    const uniform = this.uniformReplicaSet(keyspace);
    if (uniform !== undefined) return uniform;
    return this.nameOf(this.client.getReplicas(keyspace, Buffer.from(key, 'utf8')) as cassandra.Host[] | null);
  }

  /**
   * The replica set of a keyspace whose every token range lives on the same nodes (one node, or
   * as many replicas as nodes): then no key needs hashing. Undefined otherwise. Worked out once per
   * token map and keyspace definition (the driver replaces both objects when either changes).
   */
  private uniformReplicaSet(keyspace: string): string | undefined {
    const md = this.client.metadata;
    const definition = md.keyspaces[keyspace];
    const ranges = md.getTokenRanges() as Set<cassandra.token.TokenRange> | undefined;
    if (!definition || !ranges?.size) return undefined;
    const known = this.uniform.get(definition);
    if (known?.ranges === ranges) return known.name;
    const names = new Set([...ranges].map((r) => this.nameOf(md.getReplicas(keyspace, r) as cassandra.Host[] | null)));
    const [only] = names;
    const name = names.size === 1 && only ? only : undefined;
    this.uniform.set(definition, { ranges, name });
    return name;
  }

  private nameOf(hosts: cassandra.Host[] | null): string | null {
    if (!hosts?.length) return null;
    // The driver hands out one cached array per token range: name each once.
    let name = this.replicaSetNames.get(hosts);
    if (name === undefined) {
      name = hosts
        .map((h) => h.address)
        .sort()
        .join(',');
      this.replicaSetNames.set(hosts, name);
    }
    return name;
  }

  /**
   * Creates `keyspace` if it is absent (NetworkTopologyStrategy, `replicationFactor` copies in the
   * local data centre), then runs its owner's `tables` statements, each idempotent (IF NOT EXISTS).
   */
  async ensureKeyspace(keyspace: string, replication: Replication, tables: string[]): Promise<void> {
    if (!KEYSPACE_NAME.test(keyspace)) throw new Error(`invalid keyspace name: ${keyspace}`);
    const { localDc, replicationFactor } = replication;
    await this.ddl(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace}
         WITH replication = {'class': 'NetworkTopologyStrategy', '${localDc}': ${replicationFactor}}`,
    );
    for (const cql of tables) await this.ddl(cql);
  }

  async hasKeyspace(keyspace: string): Promise<boolean> {
    const rows = await this.execute(
      'find keyspace',
      'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
      [keyspace],
    );
    return rows.length > 0;
  }

  /** A schema change, unprepared; the driver waits for schema agreement so the next statement sees it. */
  async ddl(query: string): Promise<void> {
    try {
      await this.client.execute(query, [], { prepare: false, isIdempotent: true });
    } catch (err) {
      throw classifyCassandraError(err, 'schema change');
    }
  }

  async shutdown(): Promise<void> {
    await this.client.shutdown();
  }
}
