import type { TopicKey } from '../../schemas/topics.ts';
import type { GroupProgress } from '../kafka/groups.ts';
import type { Component } from '../service.ts';

/**
 * A derived store, defined once: the topics it comes from, the writer that derives it, where the
 * live copy is, and how to make, compare and drop others. The live process runs the store's
 * writer on its live target (`runStore`), and `replay` runs the very same writer from the start of
 * the topics into a fresh target (`rebuild`), so a rebuilt store can only differ from the live
 * one through the events themselves.
 */
export interface DerivedStore {
  /** The name an operator types: `npm run replay -- <name>`. */
  readonly name: string;
  /** The topics it is derived from: a rebuild is complete when its group has reached their end. */
  readonly topics: readonly TopicKey[];
  /** The live writer's consumer group, with the deployment's topic prefix. */
  readonly liveGroupId: string;
  /** Where the live writer writes (a keyspace, an alias, a folder). */
  readonly live: string;
  /** Connects to the store's server, if it has one; the live process may wait for it longer. */
  connect(opts: { live: boolean }): Promise<void>;
  /** Makes the live target ready to be written (schema, alias). The live process only. */
  prepareLive(): Promise<void>;
  /** The component that writes the store into `target` from the topics. */
  writer(target: string, opts: WriterOptions): StoreWriter;
  /** A fresh target for a rebuild, ready to be written. */
  createTarget(req: RebuildRequest): Promise<string>;
  /** A 'swap' rebuild has caught up: put it where readers look, or say how. Returns notes for a person. */
  swapIn?(target: string, req: RebuildRequest): Promise<string[]>;
  /** After the last catch-up: what completes the target (refresh an index, apply retention). Returns notes. */
  finish?(target: string, req: RebuildRequest): Promise<string[]>;
  /** The live target, once the live writer has handled what is on the topics now. */
  settledLive(): Promise<string>;
  /** Every record of a target, keyed so that equal stores give equal maps. */
  dump(target: string): Promise<Map<string, unknown>>;
  drop(target: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreWriter extends Component {
  readonly healthy: boolean;
}

export interface WriterOptions {
  groupId: string;
  /** The live writer (announces what it derives); false in a rebuild. */
  live: boolean;
  /** Point-in-time rebuilds: records appended after this broker time (ms) are passed over. */
  until?: number;
  /**
   * The target was made empty for this writer, and nothing else writes it meanwhile (a rebuild's
   * new target): what it holds, this writer wrote, so a writer need not read back what it knows.
   * The store sets it; absent means false.
   */
  fresh?: boolean;
  onFatal?: (err: Error) => void;
}

export interface RebuildRequest {
  /**
   * 'swap': rebuild and put the result where readers look (or into `into`, for stores that switch
   * by configuration). 'apart': rebuild into a separate target that readers never see.
   */
  mode: 'swap' | 'apart';
  /** Target name chosen by the operator; a store picks a fresh one when it is absent. */
  into?: string;
  /** Point in time (ms): only records appended up to then are applied. */
  asOf?: number;
  /** Keep what the swap replaced (discovery: the old index). */
  keepOld?: boolean;
  onProgress?: (p: GroupProgress) => void;
}

export interface RebuildOutcome {
  /** Where the rebuilt data is. */
  target: string;
  /** What a person should know or do next. */
  notes: string[];
}
