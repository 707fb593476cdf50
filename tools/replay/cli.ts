/**
 * Rebuilds any derived store from the topics (the command line: `program`, and `--help`):
 *
 *   npm run replay -- list
 *   npm run replay -- <store> [--into <target>] [--keep-old]   rebuild, then swap it in
 *   npm run replay -- <store> --verify [--keep]                rebuild apart, compare with the live
 *                                                              store, print the differences
 *   npm run replay -- <store> --as-of <time> [--into <target>] the store as it stood at <time>, apart
 *
 * Each store is defined once, in the process that writes it live, and that process runs its own
 * rebuild (`<main.ts> replay ...`, platform/store/replay-command.ts): the same writer, the same
 * configuration. This command checks the command line, finds the process and hands it the options,
 * so it imports none of them. Exit status: 0 done (and, with --verify, equal), 1 differences found,
 * 2 usage or failure. The stream registry needs no command: every process that holds it rebuilds
 * it from the topic at start.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Argument } from '@commander-js/extra-typings';
import { run, tool } from '../../platform/cli.ts';
import { REPO_ROOT } from '../../platform/paths.ts';
import { replayArgs, replayOptions } from '../../platform/store/replay-command.ts';

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

const storeList = Object.entries(STORES)
  .map(([n, s]) => `${n.padEnd(14)} ${s.description}`)
  .join('\n');

const program = tool({
  name: 'replay',
  command: 'npm run replay --',
  description:
    'Rebuilds a derived store from the topics, with the writer of the process that keeps it live: ' +
    'swapped in, checked against the live store (--verify), or as it stood at a past time (--as-of).',
  examples: [
    'npm run replay -- list                                    # the stores it knows',
    'npm run replay -- discovery                               # fresh index, then an atomic alias swap',
    'npm run replay -- chat --into live_chat_v2                # chat archive into a new keyspace',
    'npm run replay -- discovery --verify                      # rebuild apart, print the differences',
    'npm run replay -- discovery --as-of 2026-11-24T20:00:00Z  # the index as it stood then, apart',
    'npm run replay -- follows --as-of -2h',
  ],
  notes: `Stores:\n${storeList.replace(/^/gm, '  ')}\n\nExit status: 0 done (and, with --verify, equal), 1 differences found, 2 usage or failure.`,
  failureStatus: 2,
}).usage('<store> [options] | list');

program
  .command('list')
  .description('the stores replay can rebuild')
  .action(() => console.log(storeList));

replayOptions(program.addArgument(new Argument('<store>', 'the store to rebuild').choices(Object.keys(STORES)))).action(
  (name, options) => {
    // Plain output for a person: the services' JSON logs only when something goes wrong.
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, STORES[name]!.entry), 'replay', ...replayArgs(options)],
      { stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' } },
    );
    process.exitCode = child.status ?? 2;
  },
);

await run(program);
