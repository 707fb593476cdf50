import { randomBytes } from 'node:crypto';

/** A per-spec namespace for topics, groups, keyspaces and indices: specs never share state. */
export function uniqueName(label: string): string {
  return `t_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}
