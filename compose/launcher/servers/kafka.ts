import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { probeBroker } from '../../../platform/kafka/health.ts';
import { javaBin } from '../java.ts';
import { fetchClasspath } from '../maven.ts';
import { KAFKA_MBEANS, installJmxExporter, jmxExporterAgent } from '../jmx-exporter.ts';
import type { LaunchContext, ServerDef } from '../types.ts';

/**
 * Apache Kafka in KRaft mode, one node acting as broker and controller. The jars come from
 * Maven Central; Kafka's artifacts declare log4j-core but no SLF4J binding, so we add one.
 * Automatic topic creation is off: topics exist only through the catalog (schemas/topics.ts).
 */
export const KAFKA_VERSION = '4.1.1';
const LOG4J_VERSION = '2.24.3';

const run = promisify(execFile);
const libDir = (ctx: LaunchContext): string => join(ctx.cacheDir, `kafka-${KAFKA_VERSION}`, 'lib');
const confDir = (ctx: LaunchContext): string => join(ctx.dataDir, 'conf');
const logDirs = (ctx: LaunchContext): string => join(ctx.dataDir, 'logs');

function classpath(ctx: LaunchContext): string {
  return `${libDir(ctx)}/*`;
}

function jvmArgs(ctx: LaunchContext): string[] {
  return [
    '-Xms512m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(confDir(ctx), 'log4j2.properties')}`,
    '-cp',
    classpath(ctx),
  ];
}

export const kafka: ServerDef = {
  name: 'kafka',
  describe: `Apache Kafka ${KAFKA_VERSION} (KRaft, combined broker+controller)`,
  startTimeoutMs: 60_000,
  ports: (p) => [p.kafka, p.kafkaController, p.kafkaMetrics],

  async install(ctx) {
    await fetchClasspath(libDir(ctx), [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: KAFKA_VERSION },
      // kafka-tools brings the producer/consumer perf tools the event-bus benchmark compares against.
      { groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version: KAFKA_VERSION },
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: LOG4J_VERSION },
    ]);
    await installJmxExporter(ctx);
  },

  async prepare(ctx) {
    const conf = confDir(ctx);
    mkdirSync(conf, { recursive: true });
    const { host, ports } = ctx;
    writeFileSync(
      join(conf, 'server.properties'),
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.bootstrap.servers=${host}:${ports.kafkaController}`,
        `listeners=PLAINTEXT://${host}:${ports.kafka},CONTROLLER://${host}:${ports.kafkaController}`,
        `advertised.listeners=PLAINTEXT://${host}:${ports.kafka}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${logDirs(ctx)}`,
        'num.partitions=6',
        'auto.create.topics.enable=false',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=12',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        // One node: a consumer group should not wait 3 s for members that will never come.
        'group.initial.rebalance.delay.ms=0',
        'num.network.threads=2',
        'num.io.threads=4',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(conf, 'log4j2.properties'),
      [
        'rootLogger.level=INFO',
        'rootLogger.appenderRef.out.ref=OUT',
        'appender.out.type=Console',
        'appender.out.name=OUT',
        'appender.out.layout.type=PatternLayout',
        'appender.out.layout.pattern=[%d] %p %m (%c)%n',
        // The per-request config dumps drown the useful lines.
        'logger.config.name=org.apache.kafka.common.config',
        'logger.config.level=WARN',
        '',
      ].join('\n'),
    );
    if (!existsSync(join(logDirs(ctx), 'meta.properties'))) {
      // A fresh log directory must be formatted with a cluster id before the first start.
      await run(javaBin(17), [
        ...jvmArgs(ctx).filter((a) => !a.startsWith('-Xm')),
        'kafka.tools.StorageTool',
        'format',
        '--standalone',
        '-t',
        randomUUID().replaceAll('-', '').slice(0, 22),
        '-c',
        join(conf, 'server.properties'),
      ]);
    }
  },

  spawn(ctx) {
    return {
      cmd: javaBin(17),
      args: [
        jmxExporterAgent(ctx, ctx.ports.kafkaMetrics, KAFKA_MBEANS),
        ...jvmArgs(ctx),
        'kafka.Kafka',
        join(confDir(ctx), 'server.properties'),
      ],
    };
  },

  probe: (ctx) => probeBroker([`${ctx.host}:${ctx.ports.kafka}`]),
};
