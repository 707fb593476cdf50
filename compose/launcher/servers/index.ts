import type { ServerDef } from '../types.ts';
import { cassandra } from './cassandra.ts';
import { elasticsearch } from './elasticsearch.ts';
import { elasticsearchExporter } from './elasticsearch-exporter.ts';
import { kafka } from './kafka.ts';
import { prometheus } from './prometheus.ts';
import { registry } from './registry.ts';

/** The servers the services and the test suite store and exchange data in. */
export const dataServers: ServerDef[] = [kafka, registry, cassandra, elasticsearch];

/**
 * Everything `./live up` and `npm run infra` start. Start order matters only for spawning (all
 * start in parallel and are probed together); `down` stops them in reverse, so Prometheus, which
 * only watches, stops first. Kafka's and Cassandra's metrics come from JMX agents inside them (so
 * test runs have them too); Elasticsearch's from an exporter process, started only here.
 */
export const allServers: ServerDef[] = [...dataServers, elasticsearchExporter, prometheus];
