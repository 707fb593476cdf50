import { covers, type StreamDocument } from '../../domain/discovery/document.ts';

/**
 * The documents this indexer wrote, by stream id, at most `max` of them: when one is needed again
 * the least recently written goes. The indexer starts a stream's next write from here instead of
 * reading the document back (_mget), but only while nothing else can write it (indexer.ts says
 * when); a stream that is not here is read.
 */
export class WrittenDocuments {
  /** Insertion order is write order: the first key is the least recently written. */
  private readonly docs = new Map<string, StreamDocument>();
  /**
   * Whether these are all the documents of the streams this indexer writes: set while the index
   * holds nothing (`markComplete`), kept while nothing is forgotten. A stream that is not here
   * then has no document yet, and nothing needs to be read back.
   */
  private everything = false;

  get complete(): boolean {
    return this.everything;
  }

  /** The index was empty and these were emptied with it: from now on every document written is here. */
  markComplete(): void {
    this.everything = this.docs.size === 0 && this.max > 0;
  }

  /** Something may have been written that is not here (a failed write whose requests partly landed). */
  incomplete(): void {
    this.everything = false;
  }

  constructor(private readonly max: number) {}

  get size(): number {
    return this.docs.size;
  }

  get(id: string): StreamDocument | undefined {
    return this.docs.get(id);
  }

  /** Remembers `doc`, unless a newer one is remembered already (rounds can finish out of order). */
  set(id: string, doc: StreamDocument): void {
    const known = this.docs.get(id);
    if (this.max <= 0 || (known && known !== doc && covers(known, doc))) return;
    this.docs.delete(id);
    this.docs.set(id, doc);
    if (this.docs.size > this.max) {
      this.docs.delete(this.docs.keys().next().value!);
      this.everything = false;
    }
  }

  delete(id: string): void {
    this.docs.delete(id);
    this.everything = false;
  }

  clear(): void {
    this.docs.clear();
    this.everything = false;
  }
}
