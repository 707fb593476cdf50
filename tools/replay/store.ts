import type { GroupProgress } from '../../platform/kafka/groups.ts';

/**
 * A derived store that `replay` can rebuild from the topics. Each store's module knows its
 * configuration, its target kind (an Elasticsearch index, a Cassandra keyspace...) and how to read
 * itself back for comparison; the CLI only drives these steps.
 */
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

export interface ReplayStore {
  readonly name: string;
  rebuild(req: RebuildRequest): Promise<RebuildOutcome>;
  /** The target the live processors write, once they have handled what is on the topics now. */
  settledLiveTarget(): Promise<string>;
  /** Every record of a target, keyed so that equal stores give equal maps. */
  dump(target: string): Promise<Map<string, unknown>>;
  drop(target: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreEntry {
  description: string;
  open(): Promise<ReplayStore>;
}
