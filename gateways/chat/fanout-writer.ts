/**
 * Fans each stream's frames out a group of readers at a time, one group per event-loop turn, so
 * fanning out to thousands of sockets never holds the loop for a whole round of writes.
 *
 * Why: with one uWS topic per stream, `app.publish` wrote to every subscriber in one drain. With
 * 10,000 readers that drain held the loop for a round of writes (80-100 ms on the benchmark's
 * machine, about 7 µs of kernel time per write); the Kafka consumer could not read meanwhile,
 * and a frame that arrived during one round waited for it and then for its place in the next:
 * p99 about two rounds. Now a stream's readers are split into groups of at most `groupSize`,
 * each its own uWS topic; a turn publishes what a group lacks to that group's topic (uWS then
 * writes each of its sockets once, corked, natively), and the loop reads Kafka and serves other
 * sockets between turns. A frame that arrives mid-round goes to the groups the round has not
 * reached in the same round, and to the others on their next turn: within about one round.
 *
 * A stream keeps its frames since the group furthest behind (sequence numbers per group). A
 * reader joins a group only after that group has been given everything so far, so it gets only
 * frames published after it joined; the history it is sent at the same moment has the rest.
 */
export interface FanoutOptions {
  /** Readers per group (one uWS topic each). */
  groupSize: number;
  /** Publishes `frames[from..to)` to a group's topic, in order. */
  publish: (topic: string, frames: readonly string[], from: number, to: number) => void;
  /** Groups published per event-loop turn before pending I/O gets its turn. */
  groupsPerTurn: number;
  /**
   * After each group's turn: the socket writes it caused, the frames they carried, and how long
   * the oldest of those frames waited here since `publish` (ms): the gateway's own share of a
   * reader's latency, which grows with the round when the gateway cannot keep up.
   */
  counted?: (writes: number, frames: number, waitedMs: number) => void;
  /** How the next turn is scheduled (setImmediate: after pending I/O and uWS's drain). */
  schedule?: (run: () => void) => void;
  /** Milliseconds, for the waits `counted` reports. */
  clock?: () => number;
}

interface Group {
  topic: string;
  members: number;
  /** Sequence number of the next frame this group has not been given. */
  cursor: number;
}

interface StreamLog {
  id: string;
  frames: string[];
  /** When each of `frames` was published (clock ms). */
  at: number[];
  /** Sequence number of frames[0]. */
  base: number;
  /** Sequence number the next frame will get. */
  next: number;
  groups: Group[];
  /** The next group of the current round. */
  pos: number;
  queued: boolean;
}

export class FanoutWriter {
  private readonly streams = new Map<string, StreamLog>();
  /** Streams with frames some group lacks, in turn order. */
  private readonly queue: StreamLog[] = [];
  private scheduled = false;
  private readonly schedule: (run: () => void) => void;
  private readonly clock: () => number;

  constructor(private readonly opts: FanoutOptions) {
    this.schedule = opts.schedule ?? ((run) => void setImmediate(run));
    this.clock = opts.clock ?? (() => performance.now());
  }

  /**
   * A reader of the stream joins: returns the topic it must subscribe to now, in the same
   * synchronous step as its history is sent.
   */
  join(streamId: string): string {
    const log = this.log(streamId);
    let group = log.groups.find((g) => g.members < this.opts.groupSize);
    if (!group) {
      group = { topic: `chat/${streamId}/${log.groups.length}`, members: 0, cursor: log.next };
      log.groups.push(group);
    }
    // Published before the subscription, so the newcomer is not among those who get it.
    if (group.cursor < log.next) this.give(log, group);
    group.members++;
    return group.topic;
  }

  /** A reader left the group of `topic` (uWS unsubscribes a closed socket by itself). */
  leave(streamId: string, topic: string): void {
    const log = this.streams.get(streamId);
    const group = log?.groups.find((g) => g.topic === topic);
    if (!log || !group) return;
    group.members--;
    if (!log.queued && log.groups.every((g) => g.members === 0)) this.streams.delete(streamId);
  }

  publish(streamId: string, frame: string): void {
    const log = this.log(streamId);
    log.frames.push(frame);
    log.at.push(this.clock());
    log.next++;
    if (!log.queued) {
      log.queued = true;
      this.queue.push(log);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.run());
    }
  }

  /** Publishes everything still owed, at once (at shutdown, before the sockets close). */
  flush(): void {
    while (this.queue.length > 0) this.turn();
  }

  private log(streamId: string): StreamLog {
    let log = this.streams.get(streamId);
    if (!log) {
      log = { id: streamId, frames: [], at: [], base: 0, next: 0, groups: [], pos: 0, queued: false };
      this.streams.set(streamId, log);
    }
    return log;
  }

  private run(): void {
    this.scheduled = false;
    for (let n = 0; n < this.opts.groupsPerTurn && this.queue.length > 0; n++) this.turn();
    if (this.queue.length > 0) {
      this.scheduled = true;
      this.schedule(() => this.run());
    }
  }

  /**
   * Gives the next group of the first queued stream what it lacks. A stream's round runs to its
   * end before the next stream's starts: rounds taken in rotation would give a stream of 5,000
   * readers the same share as one of 200, and its round would take 20 times as long.
   */
  private turn(): void {
    const log = this.queue[0]!;
    if (log.pos < log.groups.length) {
      const group = log.groups[log.pos++]!;
      if (group.cursor < log.next) this.give(log, group);
    }
    if (log.pos < log.groups.length) return;
    this.queue.shift();
    log.pos = 0;
    // The round is complete: drop the frames every group has been given.
    const min = log.groups.reduce((m, g) => Math.min(m, g.cursor), log.next);
    log.frames.splice(0, min - log.base);
    log.at.splice(0, min - log.base);
    log.base = min;
    if (min < log.next) return void this.queue.push(log); // frames that came mid-round
    log.queued = false;
    if (log.groups.every((g) => g.members === 0)) this.streams.delete(log.id);
  }

  private give(log: StreamLog, group: Group): void {
    const from = group.cursor - log.base;
    const to = log.next - log.base;
    if (group.members > 0) {
      this.opts.publish(group.topic, log.frames, from, to);
      this.opts.counted?.(group.members, group.members * (to - from), this.clock() - log.at[from]!);
    }
    group.cursor = log.next;
  }
}
