import type { ServerDef } from '../types.ts';
import { cassandra } from './cassandra.ts';
import { elasticsearch } from './elasticsearch.ts';
import { kafka } from './kafka.ts';
import { registry } from './registry.ts';

/**
 * Start order matters only for spawning (all start in parallel and are probed together);
 * `down` stops them in reverse.
 */
export const allServers: ServerDef[] = [kafka, registry, cassandra, elasticsearch];
