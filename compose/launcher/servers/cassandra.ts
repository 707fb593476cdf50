import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cassandraDriver from 'cassandra-driver';
import { javaBin } from '../java.ts';
import { fetchClasspath } from '../maven.ts';
import { CASSANDRA_MBEANS, installJmxExporter, jmxExporterAgent } from '../jmx-exporter.ts';
import type { LaunchContext, ServerDef } from '../types.ts';

const VERSION = '5.0.9';

/** SimpleSnitch puts every node in this data centre; the driver refuses to route without it. */
export const CASSANDRA_DC = 'datacenter1';

function libDir(ctx: LaunchContext): string {
  return join(ctx.cacheDir, `cassandra-${VERSION}`, 'lib');
}

function dirs(ctx: LaunchContext) {
  return {
    conf: join(ctx.dataDir, 'conf'),
    data: join(ctx.dataDir, 'data'),
    commitlog: join(ctx.dataDir, 'commitlog'),
    hints: join(ctx.dataDir, 'hints'),
    savedCaches: join(ctx.dataDir, 'saved_caches'),
    cdcRaw: join(ctx.dataDir, 'cdc_raw'),
    triggers: join(ctx.dataDir, 'triggers'),
  };
}

/**
 * As in conf/jvm17-server.options of the 5.0 distribution (we have no distribution, only jars).
 * Cassandra reaches into JDK internals (direct buffers, channel file descriptors, object sizing);
 * some of those paths run only under load or during compaction, so a clean start alone does not
 * prove a flag is unnecessary.
 */
const JDK17_MODULE_FLAGS = [
  '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-exports=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports=java.sql/java.sql=ALL-UNNAMED',
  '--add-exports=java.base/java.lang.ref=ALL-UNNAMED',
  '--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.math=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
];

function cassandraYaml(ctx: LaunchContext): string {
  const d = dirs(ctx);
  const q = (s: string) => JSON.stringify(s);
  return `# Written by the launcher before every start; edits are overwritten.
cluster_name: live-platform
# One token: a lone node owns the whole ring anyway, and a fixed token means no token
# allocation at first start and the same ring on every restart.
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
# Nothing to bootstrap from; the node is its own seed.
auto_bootstrap: false
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: ${q(`${ctx.host}:${ctx.ports.cassandraStorage}`)}
listen_address: ${ctx.host}
rpc_address: ${ctx.host}
storage_port: ${ctx.ports.cassandraStorage}
native_transport_port: ${ctx.ports.cassandra}
start_native_transport: true
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer
data_file_directories:
  - ${q(d.data)}
commitlog_directory: ${q(d.commitlog)}
hints_directory: ${q(d.hints)}
saved_caches_directory: ${q(d.savedCaches)}
cdc_raw_directory: ${q(d.cdcRaw)}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
# The notifications sink sends one unlogged batch per group of recipients that live on the same
# replicas (one request where there were many). Cassandra logs a warning for every batch over 10
# partitions or 5 KiB, meant for batches spread over the cluster; these are not.
unlogged_batch_across_partitions_warn_threshold: 100
batch_size_warn_threshold: 32KiB
batch_size_fail_threshold: 64KiB
# A fresh cluster has no 4.x nodes to stay readable by; NONE turns on the 5.0 storage format
# (deletion times past 2038 among others).
storage_compatibility_mode: NONE
`;
}

/** Cassandra's INFO output goes to stdout, which the launcher sends to ctx.logFile. */
const LOGBACK_XML = `<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="STDOUT"/>
  </root>
</configuration>
`;

export const cassandra: ServerDef = {
  name: 'cassandra',
  describe: `Apache Cassandra ${VERSION} (single node)`,

  ports: (p) => [p.cassandra, p.cassandraStorage, p.cassandraMetrics],

  async install(ctx) {
    await installJmxExporter(ctx);
    if (existsSync(join(libDir(ctx), '.complete'))) return;
    ctx.report.info(`cassandra: fetching cassandra-all ${VERSION} and its dependencies from Maven Central`);
    await fetchClasspath(libDir(ctx), [
      { groupId: 'org.apache.cassandra', artifactId: 'cassandra-all', version: VERSION },
    ]);
  },

  async prepare(ctx) {
    const d = dirs(ctx);
    for (const dir of Object.values(d)) mkdirSync(dir, { recursive: true });
    writeFileSync(join(d.conf, 'cassandra.yaml'), cassandraYaml(ctx));
    writeFileSync(join(d.conf, 'logback.xml'), LOGBACK_XML);
  },

  spawn(ctx) {
    const d = dirs(ctx);
    return {
      cmd: javaBin(17),
      cwd: ctx.dataDir,
      args: [
        // Cassandra mlockall()s the JVM at start and, as root, that succeeds: everything committed
        // by then stays resident for good and faulting it in costs seconds. A small initial heap
        // keeps start fast and RSS near 650 MB; the heap may still grow to 1 GiB under load.
        jmxExporterAgent(ctx, ctx.ports.cassandraMetrics, CASSANDRA_MBEANS),
        '-Xms256m',
        '-Xmx1g',
        '-XX:+UseG1GC',
        // Stops the JVM writing /tmp/hsperfdata files on every safepoint (a known latency source).
        '-XX:+PerfDisableSharedMem',
        '-XX:+CrashOnOutOfMemoryError',
        `-XX:ErrorFile=${join(ctx.dataDir, 'hs_err_%p.log')}`,
        '-Djava.net.preferIPv4Stack=true',
        '-Dio.netty.tryReflectionSetAccessible=true',
        '-Djdk.attach.allowAttachSelf=true',
        ...JDK17_MODULE_FLAGS,
        `-Dcassandra.config=file://${join(d.conf, 'cassandra.yaml')}`,
        `-Dlogback.configurationFile=file://${join(d.conf, 'logback.xml')}`,
        '-Dcassandra-foreground=yes',
        `-Dcassandra.storagedir=${ctx.dataDir}`,
        // Without an explicit folder the first write logs a warning that conf/triggers is missing.
        `-Dcassandra.triggers_dir=${d.triggers}`,
        // We do not preload jemalloc; saying so turns a startup warning into an info line.
        '-Dcassandra.libjemalloc=-',
        // A lone seed has nobody to gossip with: waiting for gossip to settle only adds seconds.
        '-Dcassandra.skip_wait_for_gossip_to_settle=0',
        // Nobody to tell we are leaving: the default announcement sleeps 2 s in every shutdown.
        '-Dcassandra.shutdown_announce_in_ms=0',
        // The value Cassandra itself measures (with jamm) for this JVM; measuring it costs 0.5-2 s
        // of every start, and it only sizes memtable accounting, so a fixed figure is harmless.
        '-Dcassandra.memtable.row_overhead_size=180',
        '-cp',
        `${libDir(ctx)}/*`,
        'org.apache.cassandra.service.CassandraDaemon',
      ],
    };
  },

  async probe(ctx) {
    const client = new cassandraDriver.Client({
      contactPoints: [ctx.host],
      localDataCenter: CASSANDRA_DC,
      protocolOptions: { port: ctx.ports.cassandra },
      socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
      // Reading the whole schema on connect is wasted work for a health check.
      isMetadataSyncEnabled: false,
    });
    try {
      await client.connect();
      const rs = await client.execute('SELECT release_version FROM system.local');
      if (!rs.first()) throw new Error('system.local returned no row');
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  },

  // 5-10 s on 2 busy cores; the margin covers starting beside the other servers and replaying
  // a large commit log after a crash.
  startTimeoutMs: 120_000,
};
