import type { ServerDef } from '../types.ts';
import { kafka } from './kafka.ts';

/** Start order: Kafka first (fastest, and what everything else is about). */
export const allServers: ServerDef[] = [kafka];
