import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FanoutWriter } from './fanout-writer.ts';

/**
 * uWS's pub/sub as the writer sees it: a publish reaches the topic's subscribers of that moment
 * (uWS writes them later, in its drain, but picks them at publish time).
 */
class Hub {
  readonly got = new Map<string, string[]>();
  readonly writes: Array<{ topic: string; frames: string[] }> = [];
  private readonly topics = new Map<string, Set<string>>();
  private readonly runs: Array<() => void> = [];
  counted = { writes: 0, frames: 0 };
  /** The fake clock (ms) and the oldest-frame wait reported after each group's turn. */
  now = 0;
  readonly waits: number[] = [];

  writer(groupSize: number, groupsPerTurn = 1): FanoutWriter {
    return new FanoutWriter({
      groupSize,
      groupsPerTurn,
      publish: (topic, frames, from, to) => {
        const sent = frames.slice(from, to);
        this.writes.push({ topic, frames: sent });
        for (const r of this.topics.get(topic) ?? []) this.got.get(r)!.push(...sent);
      },
      counted: (writes, frames, waitedMs) => {
        this.counted.writes += writes;
        this.counted.frames += frames;
        this.waits.push(waitedMs);
      },
      clock: () => this.now,
      schedule: (run) => void this.runs.push(run),
    });
  }

  join(w: FanoutWriter, reader: string, streamId: string): string {
    const topic = w.join(streamId);
    this.got.set(reader, []);
    if (!this.topics.has(topic)) this.topics.set(topic, new Set());
    this.topics.get(topic)!.add(reader);
    return topic;
  }

  leave(w: FanoutWriter, reader: string, streamId: string, topic: string): void {
    this.topics.get(topic)!.delete(reader);
    w.leave(streamId, topic);
  }

  /** Runs the scheduled turn, if any; false when nothing was scheduled. */
  tick(): boolean {
    const run = this.runs.shift();
    run?.();
    return run !== undefined;
  }

  settle(): void {
    while (this.tick());
  }
}

describe('chat fan-out writer', () => {
  it('gives one group per turn, and a stream its whole round before the next stream', () => {
    const hub = new Hub();
    const w = hub.writer(2);
    const topics = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((r) => hub.join(w, r, 'A'));
    hub.join(w, 'b1', 'B');
    assert.deepEqual([...new Set(topics)], ['chat/A/0', 'chat/A/1', 'chat/A/2']);
    w.publish('A', 'x');
    w.publish('B', 'y');
    assert.equal(hub.writes.length, 0, 'nothing is written synchronously');
    hub.settle();
    assert.deepEqual(
      hub.writes.map((x) => x.topic),
      ['chat/A/0', 'chat/A/1', 'chat/A/2', 'chat/B/0'],
    );
    assert.deepEqual(hub.counted, { writes: 7, frames: 7 });
  });

  it('a frame that comes mid-round reaches the groups not yet visited in the same round, the others next round', () => {
    const hub = new Hub();
    const w = hub.writer(1);
    for (const r of ['r0', 'r1', 'r2']) hub.join(w, r, 'A');
    w.publish('A', 'f1');
    hub.tick(); // r0 gets f1
    w.publish('A', 'f2');
    hub.tick(); // r1 gets f1 and f2 in one write
    hub.tick(); // r2 too; the round ends with r0 still owed f2
    hub.settle();
    assert.deepEqual(hub.writes, [
      { topic: 'chat/A/0', frames: ['f1'] },
      { topic: 'chat/A/1', frames: ['f1', 'f2'] },
      { topic: 'chat/A/2', frames: ['f1', 'f2'] },
      { topic: 'chat/A/0', frames: ['f2'] },
    ]);
    assert.deepEqual(hub.counted, { writes: 4, frames: 6 });
  });

  it("reports how long each turn's oldest frame waited since it was published", () => {
    const hub = new Hub();
    const w = hub.writer(1);
    for (const r of ['r0', 'r1', 'r2']) hub.join(w, r, 'A');
    w.publish('A', 'f1'); // at 0
    hub.now = 3;
    hub.tick(); // r0: f1
    hub.now = 4;
    w.publish('A', 'f2');
    hub.now = 10;
    hub.tick(); // r1: f1, f2
    hub.now = 12;
    hub.tick(); // r2: f1, f2; the round drops f1
    hub.now = 20;
    hub.settle(); // r0: f2, published at 4
    assert.deepEqual(hub.waits, [3, 10, 12, 16]);
  });

  it('a reader joins after its group has been given what came before (its history has that), never twice', () => {
    const hub = new Hub();
    const w = hub.writer(2);
    hub.join(w, 'early', 'A');
    w.publish('A', 'before');
    hub.join(w, 'late', 'A'); // same group, which still lacks "before"
    w.publish('A', 'after');
    hub.settle();
    assert.deepEqual(hub.got.get('early'), ['before', 'after']);
    assert.deepEqual(hub.got.get('late'), ['after']);
  });

  it('several groups per turn when asked; flush gives everything at once', () => {
    const hub = new Hub();
    const w = hub.writer(1, 2);
    for (const r of ['r0', 'r1', 'r2']) hub.join(w, r, 'A');
    w.publish('A', 'f1');
    hub.tick();
    assert.equal(hub.writes.length, 2);
    w.publish('A', 'f2');
    w.flush();
    assert.deepEqual(
      [...hub.got.values()].map((g) => g.join(',')),
      ['f1,f2', 'f1,f2', 'f1,f2'],
    );
  });

  it('every reader gets every frame published while it was in, once and in order (random joins, leaves and turns)', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const hub = new Hub();
    const w = hub.writer(3);
    const streams = ['A', 'B', 'C'];
    const members = new Map<string, { streamId: string; topic: string; expected: string[]; left: boolean }>();
    let n = 0;
    for (let step = 0; step < 4000; step++) {
      const p = random();
      const streamId = streams[Math.floor(random() * streams.length)]!;
      if (p < 0.35) {
        const frame = `${streamId}${n++}`;
        w.publish(streamId, frame);
        for (const m of members.values()) if (!m.left && m.streamId === streamId) m.expected.push(frame);
      } else if (p < 0.5) {
        const reader = `r${members.size}`;
        members.set(reader, { streamId, topic: hub.join(w, reader, streamId), expected: [], left: false });
      } else if (p < 0.58) {
        const open = [...members].filter(([, m]) => !m.left);
        if (open.length === 0) continue;
        const [reader, m] = open[Math.floor(random() * open.length)]!;
        // What was still owed when it left may not have reached it: what did is a prefix, in order.
        const got = hub.got.get(reader)!;
        assert.deepEqual(got, m.expected.slice(0, got.length), reader);
        m.left = true;
        hub.leave(w, reader, m.streamId, m.topic);
      } else hub.tick();
    }
    hub.settle();
    assert.ok(members.size > 100 && n > 1000);
    for (const [reader, m] of members) if (!m.left) assert.deepEqual(hub.got.get(reader), m.expected, reader);
  });
});
