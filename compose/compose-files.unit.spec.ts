import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT } from '../platform/paths.ts';

/**
 * The compose files, read as Docker Compose reads them (no Docker here to run them): nothing is
 * published beyond loopback, and the secure override turns on authentication for every server
 * and leaves no password in the files.
 */
const dir = join(REPO_ROOT, 'compose');
type Service = Record<string, unknown> & { environment?: Record<string, string> };
interface ComposeFile {
  services: Record<string, Service>;
  secrets?: Record<string, { file: string }>;
}

/** Compose 2.24's `!reset []` (drop what the base file set) as a marker the merge understands. */
const RESET = { reset: true } as const;
const read = (name: string): ComposeFile =>
  parse(readFileSync(join(dir, name), 'utf8'), {
    customTags: [{ tag: '!reset', collection: 'seq', resolve: () => RESET }],
  }) as ComposeFile;

/**
 * Compose's merge of an override into a base: maps merge by key, sequences add up (command and
 * entrypoint are replaced), `!reset` empties.
 */
const REPLACED = new Set(['command', 'entrypoint']);
function merge(base: ComposeFile, over: ComposeFile): ComposeFile {
  const services: Record<string, Service> = structuredClone(base.services);
  for (const [name, o] of Object.entries(over.services)) {
    const s: Service = (services[name] ??= {});
    for (const [key, value] of Object.entries(o)) {
      const was = s[key];
      if (value === RESET) s[key] = [];
      else if (REPLACED.has(key)) s[key] = value;
      else if (Array.isArray(value)) s[key] = [...(Array.isArray(was) ? was : []), ...(value as unknown[])];
      else if (value && typeof value === 'object' && was && typeof was === 'object') {
        s[key] = { ...(was as object), ...(value as object) };
      } else s[key] = value;
    }
  }
  return { services, secrets: { ...base.secrets, ...over.secrets } };
}

/** The host address of each published port, short (`[HOST:]PUBLISHED:TARGET`) or long syntax. */
function published(s: Service): { port: string; hostIp: string | undefined }[] {
  const ports = (s.ports ?? []) as (string | number | { host_ip?: string; published?: string | number })[];
  return ports.map((p) => {
    if (typeof p === 'object') return { port: String(p.published), hostIp: p.host_ip };
    const parts = String(p).split(':');
    if (parts.length < 3) return { port: String(p), hostIp: undefined };
    return {
      port: String(p),
      hostIp: parts
        .slice(0, -2)
        .join(':')
        .replace(/^\[|\]$/g, ''),
    };
  });
}
const LOOPBACK = new Set(['127.0.0.1', '::1']);

function assertLoopbackOnly(file: ComposeFile, label: string): void {
  let count = 0;
  for (const [name, s] of Object.entries(file.services)) {
    for (const { port, hostIp } of published(s)) {
      count++;
      assert.ok(
        hostIp !== undefined && LOOPBACK.has(hostIp),
        `${label}: ${name} publishes ${port} on every interface; write it 127.0.0.1:${port}`,
      );
    }
  }
  assert.ok(count >= 5, `${label}: only ${count} published ports found: the parse is broken`);
}

const base = read('docker-compose.yml');
const secure = merge(base, read('docker-compose.secure.yml'));
const env = (name: string): Record<string, string> => secure.services[name]?.environment ?? {};
/** `${NAME:?message}`: compose refuses to start without it, and no value sits in the file. */
const REQUIRED_VAR = /\$\{LIVE_[A-Z_]+:\?[^}]+\}/;
const script = (name: string): string => readFileSync(join(dir, 'secure', name), 'utf8');

describe('compose files', () => {
  it('publish every port on loopback only, in both modes', () => {
    assertLoopbackOnly(base, 'docker-compose.yml');
    assertLoopbackOnly(secure, 'with docker-compose.secure.yml');
  });

  it('secure mode: Kafka takes SCRAM over TLS on every listener a client can reach', () => {
    const e = env('kafka');
    const protocols = new Map(
      e.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP!.split(',').map((m) => m.split(':') as [string, string]),
    );
    for (const listener of e.KAFKA_LISTENERS!.split(',')) {
      const [, name, host] = /^(\w+):\/\/([^:]*):\d+$/.exec(listener)!;
      if (name === 'CONTROLLER') assert.equal(host, 'localhost', 'the controller listener stays inside the container');
      else assert.equal(protocols.get(name!), 'SASL_SSL', `${name} listener`);
    }
    assert.equal(e.KAFKA_SASL_ENABLED_MECHANISMS, 'SCRAM-SHA-512');
    assert.match(e.LIVE_KAFKA_ADMIN_PASSWORD!, REQUIRED_VAR);
    assert.match(e.LIVE_KAFKA_USERS!, REQUIRED_VAR);
    assert.deepEqual(secure.services.kafka!.command, ['bash', '/live-secure/kafka-start.sh']);
    assert.match(script('kafka-start.sh'), /kafka-storage\.sh" format .*"\$\{users\[@\]\}"/);
  });

  it('secure mode: Elasticsearch security on, with a password and HTTPS', () => {
    const e = env('elasticsearch');
    assert.equal(e['xpack.security.enabled'], 'true');
    assert.equal(e['xpack.security.http.ssl.enabled'], 'true');
    assert.match(e.ELASTIC_PASSWORD!, REQUIRED_VAR);
  });

  it('secure mode: Cassandra asks a password, and the default superuser is retired', () => {
    assert.deepEqual(secure.services.cassandra!.command, ['bash', '/live-secure/cassandra-start.sh']);
    assert.match(env('cassandra').LIVE_CASSANDRA_PASSWORD!, REQUIRED_VAR);
    const text = script('cassandra-start.sh');
    assert.match(text, /s\/AllowAllAuthenticator\/PasswordAuthenticator\//);
    assert.match(text, /ALTER ROLE cassandra WITH PASSWORD = '\$retired' AND SUPERUSER = false AND LOGIN = false/);
  });

  it('secure mode: the registry is reached only through HTTPS with basic auth', () => {
    assert.deepEqual(secure.services.registry!.ports, []);
    const proxy = secure.services['registry-tls']!;
    assert.deepEqual(proxy.ports, ['127.0.0.1:8081:8443']);
    const conf = script('registry-tls.conf');
    assert.match(conf, /listen 8443 ssl;/);
    assert.match(conf, /location \/ \{\s+auth_basic "[^"]+";\s+auth_basic_user_file /);
  });

  it('secure mode: ksqlDB asks a password, and speaks SCRAM/TLS to Kafka and HTTPS to the registry', () => {
    const e = env('ksqldb');
    assert.equal(e.KSQL_AUTHENTICATION_METHOD, 'BASIC');
    assert.equal(e.KSQL_SECURITY_PROTOCOL, 'SASL_SSL');
    assert.match(e.KSQL_SASL_JAAS_CONFIG!, REQUIRED_VAR);
    assert.match(e.KSQL_KSQL_SCHEMA_REGISTRY_URL!, /^https:\/\/registry-tls:8443\//);
    assert.match(e.KSQL_KSQL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO!, REQUIRED_VAR);
  });

  it('secure mode: no password is written in the files, and every secret file is one make-secrets.sh makes', () => {
    for (const [name, s] of Object.entries(secure.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|JAAS|USER_INFO|USERS$/.test(key)) assert.match(value, REQUIRED_VAR, `${name}: ${key}`);
      }
    }
    const maker = script('make-secrets.sh');
    for (const { file } of Object.values(secure.secrets ?? {})) {
      assert.match(file, /^\.\/secure\/secrets\//);
      const made = file.replace('./secure/secrets/', '');
      assert.ok(new RegExp(`\\b${made.replace('.', '\\.')}\\b`).test(maker), `make-secrets.sh makes ${made}`);
    }
    for (const s of Object.values(secure.services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const host = v.split(':')[0]!;
        if (host.startsWith('./')) assert.ok(existsSync(join(dir, host)), `${host} is in the repository`);
      }
    }
    assert.match(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8'), /^compose\/secure\/secrets\/$/m);
  });
});
