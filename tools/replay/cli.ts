/**
 * Rebuilds any derived store from the topics:
 *
 *   npm run replay -- list
 *   npm run replay -- <store> [--into <target>] [--keep-old]   rebuild, then swap it in
 *   npm run replay -- <store> --verify [--keep]                rebuild apart, compare with the live
 *                                                              store, print the differences
 *   npm run replay -- <store> --as-of <time> [--into <target>] the store as it stood at <time>
 *                                                              (ISO 8601 or epoch ms), apart
 *
 * Each store is defined once, in the process that writes it live, and that process runs its own
 * rebuild (`<main.ts> replay ...`, platform/store/replay-command.ts): the same writer, the same
 * configuration. This command only finds the process and hands it the arguments, so it imports
 * none of them. Exit status: 0 done (and, with --verify, equal), 1 differences found, 2 usage
 * or failure. The stream registry needs no command: every process that holds it rebuilds it from
 * the topic at start.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { usageError, type Tool } from '../../platform/cli.ts';
import { REPO_ROOT } from '../../platform/paths.ts';
import { REPLAY_USAGE } from '../../platform/store/replay-command.ts';

/** Every store `replay` can rebuild, by the name an operator types, and the process that owns it. */
export const STORES: Record<string, { entry: string; description: string }> = {
  discovery: {
    entry: 'processors/discovery-indexer/main.ts',
    description: 'Elasticsearch discovery index (live.stream.lifecycle, live.viewer.counts); swaps the alias',
  },
  chat: {
    entry: 'sinks/chat-archiver/main.ts',
    description: 'Cassandra chat history and per-minute stats (live.chat.messages); into a new keyspace',
  },
  follows: {
    entry: 'sinks/follows/main.ts',
    description: 'Cassandra follower graph and counts (live.user.follows); into a new keyspace',
  },
  notifications: {
    entry: 'sinks/notifications/main.ts',
    description: 'Cassandra notifications per user (live.notifications); into a new keyspace, all unread',
  },
  'viewer-peaks': {
    entry: 'processors/viewer-counter/main.ts',
    description: 'peak viewers per stream from live.viewer.heartbeats (within retention); verify only',
  },
  playlists: {
    entry: 'processors/packager/main.ts',
    description: 'HLS playlists and packager state under MEDIA_ROOT (live.media.segments, live.stream.lifecycle)',
  },
};

const TOOL: Tool = {
  name: 'replay',
  usage: `${REPLAY_USAGE}

stores:
${Object.entries(STORES)
  .map(([n, s]) => `  ${n.padEnd(14)} ${s.description}`)
  .join('\n')}

-h, --help: this text`,
};

const [name, ...rest] = process.argv.slice(2);
if (name === 'list') {
  for (const [n, s] of Object.entries(STORES)) console.log(`${n.padEnd(14)} ${s.description}`);
  process.exit(0);
}
if (name === '--help' || name === '-h') {
  console.log(TOOL.usage);
  process.exit(0);
}
if (!name) usageError(TOOL, 'which store?');
if (name.startsWith('-')) usageError(TOOL, `Unknown option '${name}' (the store's name comes first)`);
const store = STORES[name] ?? usageError(TOOL, `unknown store "${name}"; stores: ${Object.keys(STORES).join(', ')}`);
// Plain output for a person: the services' JSON logs only when something goes wrong.
const child = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, store.entry), 'replay', ...rest], {
  stdio: 'inherit',
  env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' },
});
process.exit(child.status ?? 2);
