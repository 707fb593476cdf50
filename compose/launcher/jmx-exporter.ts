import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchArtifact } from './maven.ts';
import type { LaunchContext } from './types.ts';

/**
 * Prometheus's JMX exporter, run as a Java agent inside a JVM server (Kafka, Cassandra): it serves
 * the server's own MBeans as Prometheus text on a port of ours. From Maven Central like the
 * servers' jars. Only the MBeans named below are read: walking every one of Kafka's (thousands,
 * per partition) on each 5 s scrape would cost more than the answers are worth.
 */
export const JMX_EXPORTER_VERSION = '1.0.1';

const agentJar = (ctx: LaunchContext): string =>
  join(ctx.cacheDir, 'jmx-exporter', `jmx_prometheus_javaagent-${JMX_EXPORTER_VERSION}.jar`);

export async function installJmxExporter(ctx: LaunchContext): Promise<void> {
  await fetchArtifact(join(ctx.cacheDir, 'jmx-exporter'), {
    groupId: 'io.prometheus.jmx',
    artifactId: 'jmx_prometheus_javaagent',
    version: JMX_EXPORTER_VERSION,
  });
}

/** The exporter's configuration: MBean name patterns to read; the exporter names the series. */
export function jmxExporterYaml(includeObjectNames: readonly string[]): string {
  return [
    'lowercaseOutputName: true',
    'lowercaseOutputLabelNames: true',
    'includeObjectNames:',
    // JSON strings are valid YAML scalars, and MBean patterns hold ':', '=', '*' and ','.
    ...includeObjectNames.map((n) => `  - ${JSON.stringify(n)}`),
    '',
  ].join('\n');
}

/** Writes the configuration and returns the JVM argument that loads the agent on host:port. */
export function jmxExporterAgent(ctx: LaunchContext, port: number, includeObjectNames: readonly string[]): string {
  const config = join(ctx.dataDir, 'jmx-exporter.yml');
  writeFileSync(config, jmxExporterYaml(includeObjectNames));
  return `-javaagent:${agentJar(ctx)}=${ctx.host}:${port}:${config}`;
}

/** What operators of Kafka watch: traffic, request latency, replication and the controller. */
export const KAFKA_MBEANS = [
  'kafka.server:type=BrokerTopicMetrics,name=*',
  'kafka.server:type=ReplicaManager,name=*',
  'kafka.controller:type=KafkaController,name=*',
  'kafka.network:type=RequestMetrics,name=TotalTimeMs,request=*',
  'kafka.network:type=RequestMetrics,name=RequestsPerSec,request=*,version=*',
  'kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent',
  'kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent',
  'kafka.log:type=LogFlushStats,name=*',
  'kafka.server:type=group-coordinator-metrics,*',
  'java.lang:type=Memory',
  'java.lang:type=GarbageCollector,name=*',
];

/** Cassandra: client request latency and failures, storage, dropped messages, pending work. */
export const CASSANDRA_MBEANS = [
  'org.apache.cassandra.metrics:type=ClientRequest,scope=Read,name=*',
  'org.apache.cassandra.metrics:type=ClientRequest,scope=Write,name=*',
  'org.apache.cassandra.metrics:type=Storage,name=*',
  'org.apache.cassandra.metrics:type=DroppedMessage,scope=*,name=Dropped',
  'org.apache.cassandra.metrics:type=ThreadPools,path=request,scope=*,name=PendingTasks',
  'org.apache.cassandra.metrics:type=Compaction,name=PendingTasks',
  'org.apache.cassandra.metrics:type=Client,name=connectedNativeClients',
  'java.lang:type=Memory',
  'java.lang:type=GarbageCollector,name=*',
];
