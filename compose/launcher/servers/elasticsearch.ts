import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from '@elastic/elasticsearch';

import { javaHome } from '../java.ts';
import { fetchArtifact } from '../maven.ts';
import type { LaunchContext, ServerDef } from '../types.ts';

const run = promisify(execFile);

const VERSION = '8.19.21';

/**
 * The integ-test zip is the only Elasticsearch distribution on Maven Central (8.x; 9.x is not
 * published there). It has no bundled JDK and only four modules (transport-netty4, x-pack-core,
 * x-pack-security, apm): no analysis-common, mapper-extras, painless, reindex or rest-root. So
 * only the built-in analyzers exist, there is no scaled_float, no scripts, no *_by_query and no
 * `GET /`. Nothing compatible with 8.19 that fills those gaps is on Maven Central.
 */
const DIST = {
  groupId: 'org.elasticsearch.distribution.integ-test-zip',
  artifactId: 'elasticsearch',
  version: VERSION,
  type: 'zip',
};

/** Elasticsearch refuses to run as root, so a root launcher hands it to this system user. */
const RUN_AS = 'live-es';

/**
 * 512 MiB is what Elasticsearch's own test clusters run with; plenty for development-sized
 * indices, and it leaves room for Kafka and Cassandra on a small machine.
 */
const HEAP = '512m';

/** Written last, so a half-extracted folder is never taken for a finished one. */
const EXTRACTED = '.extracted';

const isRoot = (): boolean => process.getuid?.() === 0;

function cachedHome(ctx: LaunchContext): string {
  return join(ctx.cacheDir, `elasticsearch-${VERSION}`);
}

/** A hard-linked copy of the distribution, made only when RUN_AS cannot reach the cache. */
function mirroredHome(ctx: LaunchContext): string {
  return join(ctx.dataDir, 'dist');
}

function home(ctx: LaunchContext): string {
  const mirror = mirroredHome(ctx);
  return existsSync(join(mirror, EXTRACTED)) ? mirror : cachedHome(ctx);
}

const paths = (ctx: LaunchContext) => ({
  conf: join(ctx.dataDir, 'config'),
  data: join(ctx.dataDir, 'data'),
  logs: join(ctx.dataDir, 'logs'),
  tmp: join(ctx.dataDir, 'tmp'),
});

async function sh(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

const asUser = (args: string[]): Promise<boolean> => succeeds('runuser', ['-u', RUN_AS, '--', ...args]);

async function ensureUser(): Promise<void> {
  if (await succeeds('id', ['-u', RUN_AS])) return;
  try {
    await sh('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      RUN_AS,
    ]);
  } catch (err) {
    // Another launcher may have created it in the meantime.
    if (!(await succeeds('id', ['-u', RUN_AS]))) throw err;
  }
}

/**
 * The cache usually lives under /root (mode 700), which RUN_AS cannot enter. Hard links cost no
 * space and keep the cache's files root-owned and read-only to RUN_AS; a plain copy is the
 * fallback when the data folder is on another file system.
 */
async function ensureReachableHome(ctx: LaunchContext): Promise<void> {
  const mirror = mirroredHome(ctx);
  const probeFile = join(cachedHome(ctx), 'lib', `elasticsearch-${VERSION}.jar`);
  if (await asUser(['test', '-r', probeFile])) {
    rmSync(mirror, { recursive: true, force: true });
    return;
  }
  const marker = join(mirror, EXTRACTED);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === VERSION) return;
  ctx.report.info(`elasticsearch: ${RUN_AS} cannot read ${cachedHome(ctx)}; linking a copy into ${mirror}`);
  const work = `${mirror}.work`;
  rmSync(work, { recursive: true, force: true });
  rmSync(mirror, { recursive: true, force: true });
  if (!(await succeeds('cp', ['-al', cachedHome(ctx), work]))) {
    rmSync(work, { recursive: true, force: true });
    await sh('cp', ['-a', cachedHome(ctx), work]);
  }
  renameSync(work, mirror);
}

/**
 * A checkout under a private folder (/root is mode 700) is out of RUN_AS's reach. Elasticsearch's
 * data must live in the checkout's `.data/`, so each folder above it that others cannot enter
 * gets the search bit only (o+x: enter, not list), and the change is reported.
 */
async function grantTraverse(ctx: LaunchContext, target: string): Promise<void> {
  const parts = target.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const dir = `/${parts.slice(0, i).join('/')}`;
    if ((statSync(dir).mode & 0o001) === 0) {
      chmodSync(dir, statSync(dir).mode | 0o001);
      ctx.report.warn(`elasticsearch: made ${dir} searchable by other users (o+x) so ${RUN_AS} can reach ${target}`);
    }
  }
}

function elasticsearchYml(ctx: LaunchContext): string {
  const p = paths(ctx);
  const q = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML scalar
  return `# Written by the launcher before every start; edits are lost.
cluster.name: live-platform
node.name: live-es
discovery.type: single-node
network.host: ${q(ctx.host)}
http.port: ${ctx.ports.elasticsearch}
transport.port: ${ctx.ports.elasticsearchTransport}
path.data: ${q(p.data)}
path.logs: ${q(p.logs)}

# Plain HTTP on loopback: the launcher and the services talk to it without credentials.
xpack.security.enabled: false

# The default watermarks are percentages, which stop shard allocation on a large disk that is
# merely 85% full; absolute free-space limits only bite when the disk is really running out.
cluster.routing.allocation.disk.watermark.low: 2gb
cluster.routing.allocation.disk.watermark.high: 1gb
cluster.routing.allocation.disk.watermark.flood_stage: 512mb
`;
}

/** The distribution's own jvm.options, with GC logs capped at 32 MiB instead of 2 GiB. */
function jvmOptions(dist: string): string {
  return readFileSync(join(dist, 'config', 'jvm.options'), 'utf8').replace(
    /filecount=\d+,filesize=\d+m/,
    'filecount=2,filesize=16m',
  );
}

export const elasticsearch: ServerDef = {
  name: 'elasticsearch',
  describe: `Elasticsearch ${VERSION} (integ-test distribution, single node, no security)`,

  ports: (p) => [p.elasticsearch, p.elasticsearchTransport],

  async install(ctx) {
    const dest = cachedHome(ctx);
    if (existsSync(join(dest, EXTRACTED))) return;
    // A folder of its own: fetchArtifact's scratch folder is named after it, so parallel
    // installs of other servers cannot trample it.
    const downloads = join(ctx.cacheDir, 'downloads', 'elasticsearch');
    ctx.report.info(`elasticsearch: fetching ${DIST.groupId}:${DIST.artifactId}:${VERSION} (~107 MB)`);
    const zip = await fetchArtifact(downloads, DIST);
    const work = `${dest}.work`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    await sh('unzip', ['-q', zip, '-d', work]);
    rmSync(dest, { recursive: true, force: true });
    renameSync(join(work, `elasticsearch-${VERSION}`), dest);
    rmSync(work, { recursive: true, force: true });
    writeFileSync(join(dest, EXTRACTED), VERSION);
    // Maven keeps its own copy in ~/.m2; a third one would only take 107 MB of disk.
    rmSync(zip, { force: true });
  },

  async prepare(ctx) {
    const p = paths(ctx);
    for (const dir of Object.values(p)) mkdirSync(dir, { recursive: true });
    const dist = cachedHome(ctx);
    writeFileSync(join(p.conf, 'elasticsearch.yml'), elasticsearchYml(ctx));
    writeFileSync(join(p.conf, 'jvm.options'), jvmOptions(dist));
    mkdirSync(join(p.conf, 'jvm.options.d'), { recursive: true });
    writeFileSync(join(p.conf, 'log4j2.properties'), readFileSync(join(dist, 'config', 'log4j2.properties')));

    if (!isRoot()) return;
    await ensureUser();
    // Only the folders Elasticsearch writes: the mirrored distribution shares inodes with the
    // cache, and chown-ing it would hand the cache's files to RUN_AS.
    await sh('chown', ['-R', `${RUN_AS}:${RUN_AS}`, p.conf, p.data, p.logs, p.tmp]);
    if (!(await asUser(['test', '-w', p.data]))) await grantTraverse(ctx, ctx.dataDir);
    if (!(await asUser(['test', '-w', p.data]))) {
      throw new Error(
        `${RUN_AS} cannot reach ${p.data}: every folder above ${ctx.dataDir} must be searchable ` +
          `by other users (chmod o+x), or keep the checkout outside /root.`,
      );
    }
    await ensureReachableHome(ctx);
  },

  spawn(ctx) {
    const p = paths(ctx);
    return {
      cmd: join(home(ctx), 'bin', 'elasticsearch'),
      args: [],
      env: {
        // 8.19.21 is built for JDK 25 (its entitlement layer carries JDK 25 classes): with it
        // Elasticsearch uses its FFM native access and Lucene's vectorised code, where JDK 17
        // falls back to JNA and scalar code.
        ES_JAVA_HOME: javaHome(21),
        ES_PATH_CONF: p.conf,
        ES_JAVA_OPTS: `-Xms${HEAP} -Xmx${HEAP}`,
        // Otherwise the start script leaves a fresh mktemp folder in /tmp on every start.
        ES_TMPDIR: p.tmp,
      },
      cwd: ctx.dataDir,
      user: RUN_AS,
    };
  },

  async probe(ctx) {
    const client = new Client({
      node: `http://${ctx.host}:${ctx.ports.elasticsearch}`,
      maxRetries: 0,
      requestTimeout: 10_000,
    });
    const index = `live-probe-${randomUUID()}`;
    try {
      await client.indices.create({
        index,
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { properties: { word: { type: 'text' } } },
      });
      await client.index({ index, id: '1', document: { word: 'probe' }, refresh: true });
      const res = await client.search({ index, query: { match: { word: 'probe' } } });
      const found = res.hits.hits.length;
      if (found !== 1) throw new Error(`probe search found ${found} documents, expected 1`);
      await client.indices.delete({ index });
    } catch (err) {
      // A half-finished probe must not leave indices behind; nothing more to report if it fails.
      await client.indices.delete({ index, ignore_unavailable: true }).catch(() => undefined);
      throw err instanceof Error ? err : new Error(String(err));
    } finally {
      await client.close();
    }
  },

  // Healthy after 8-15 s on 2 busy cores (two JVMs start: the CLI, then the node); the margin
  // covers starting beside Kafka and Cassandra.
  startTimeoutMs: 90_000,
};
