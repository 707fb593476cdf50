import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { javaBin } from '../java.ts';
import { fetchArtifact } from '../maven.ts';
import type { LaunchContext, ServerDef } from '../types.ts';

const VERSION = '3.3.3';
const appDir = (ctx: LaunchContext) => join(ctx.cacheDir, `apicurio-registry-${VERSION}`);
const baseUrl = (ctx: LaunchContext) => `http://${ctx.host}:${ctx.ports.registry}/apis/ccompat/v7`;

async function call(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    signal: AbortSignal.timeout(5000),
  }).catch((err: Error) => {
    // fetch's own message is a bare "fetch failed"; the cause (ECONNREFUSED, timeout) is what helps.
    throw new Error(
      `${init.method ?? 'GET'} ${url} failed: ${String((err.cause as Error | undefined)?.message ?? err.message)}`,
    );
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as unknown;
}

export const registry: ServerDef = {
  name: 'registry',
  describe: `Apicurio Registry ${VERSION} (Confluent API at /apis/ccompat/v7, H2 file storage)`,
  ports: (p) => [p.registry, p.registryManagement],
  // First successful probe came 3.5-9.5 s after spawn on the 2-core machine; the margin is for
  // starting alongside Kafka, Cassandra and Elasticsearch.
  startTimeoutMs: 60_000,

  async install(ctx) {
    const dir = appDir(ctx);
    if (existsSync(join(dir, '.complete'))) return;
    const tarball = await fetchArtifact(join(ctx.cacheDir, 'downloads'), {
      groupId: 'io.apicurio',
      artifactId: 'apicurio-registry-app',
      version: VERSION,
      classifier: 'all',
      type: 'tar.gz',
    });
    // Extract beside the target and rename, so an interrupted extraction is never taken for a finished one.
    const work = `${dir}.work`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    await promisify(execFile)('tar', ['-xzf', tarball, '--no-same-owner', '-C', work]);
    if (!existsSync(join(work, 'quarkus-run.jar'))) throw new Error(`${tarball} holds no quarkus-run.jar`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    writeFileSync(join(dir, '.complete'), new Date().toISOString());
    // Maven's local repository keeps a copy; a third one (158 MB) in the cache buys nothing.
    rmSync(tarball, { force: true });
  },

  async prepare(ctx) {
    // H2 creates the database file and Apicurio its tables (apicurio.sql.init) on first start.
    mkdirSync(ctx.dataDir, { recursive: true });
  },

  spawn(ctx) {
    const props: Record<string, string | number> = {
      'quarkus.http.host': ctx.host,
      'quarkus.http.port': ctx.ports.registry,
      // Health and metrics (/q/metrics, Prometheus text) live on a separate management port.
      'quarkus.management.host': ctx.host,
      'quarkus.management.port': ctx.ports.registryManagement,
      'quarkus.http.access-log.enabled': 'false',
      'apicurio.storage.kind': 'sql',
      'apicurio.storage.sql.kind': 'h2',
      // A file database so schemas (and so the ids inside every Kafka record) survive restarts.
      // WRITE_DELAY=0: H2 otherwise flushes commits up to 0.5 s late, and a kill -9 in that window
      // lost a registered schema whose id was then handed to a different one (seen in testing).
      // DB_CLOSE_ON_EXIT=FALSE leaves closing to the connection pool, avoiding a shutdown race.
      'apicurio.datasource.url': `jdbc:h2:file:${join(ctx.dataDir, 'registry')};DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0`,
      // The default pool opens 20 connections up front; a local dev registry needs a handful.
      'apicurio.datasource.jdbc.initial-size': 2,
      'apicurio.datasource.jdbc.min-size': 2,
      'apicurio.datasource.jdbc.max-size': 10,
      // Confluent ids name the schema content (the same schema under two subjects shares an id),
      // which is Apicurio's contentId; legacy mode would hand out globalIds instead.
      'apicurio.ccompat.legacy-id-mode.enabled': 'false',
      // Confluent compares parsed schemas, so re-registering a schema that differs only in
      // whitespace or key order must find the existing version rather than add a new one.
      'apicurio.ccompat.use-canonical-hash': 'true',
    };
    return {
      // The application is compiled for Java 21 (class files version 65).
      cmd: javaBin(21),
      args: [
        '-Xms64m',
        '-Xmx384m',
        '-XX:+UseSerialGC',
        // C1 only: a low-traffic local registry never earns back C2's compile time, and it saves ~30 MB RSS.
        '-XX:TieredStopAtLevel=1',
        ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
        '-jar',
        'quarkus-run.jar',
      ],
      cwd: appDir(ctx),
    };
  },

  async probe(ctx) {
    const schema = JSON.stringify({
      type: 'record',
      name: 'Health',
      namespace: 'live.platform',
      fields: [{ name: 'ok', type: 'boolean' }],
    });
    const url = baseUrl(ctx);
    const reg = (await call(`${url}/subjects/__health-value/versions`, {
      method: 'POST',
      body: JSON.stringify({ schema }),
    })) as { id?: unknown };
    if (typeof reg.id !== 'number') throw new Error(`registering a schema returned no id: ${JSON.stringify(reg)}`);
    const got = (await call(`${url}/schemas/ids/${reg.id}`)) as { schema?: unknown };
    if (typeof got.schema !== 'string' || !got.schema.includes('"Health"')) {
      throw new Error(`schema id ${reg.id} read back as ${JSON.stringify(got).slice(0, 300)}`);
    }
  },
};
