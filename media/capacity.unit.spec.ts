import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideLadder,
  initialLadderState,
  intervalSpeed,
  ladderStepCosts,
  ladderSteps,
  machineTicks,
  procCpuTicks,
  ProgressReader,
  type LadderPolicy,
  type LadderState,
  type LoadSample,
} from './capacity.ts';
import { selectLadder, sourceCodecs, sourceRendition } from './ladder.ts';

const source = { width: 1280, height: 720, frameRate: 30 };
const full = selectLadder(source, 2000, undefined, 333);
const steps = ladderSteps(full, sourceRendition(source, 2000, 'avc1.64001f,mp4a.40.2', 333));
const costs = ladderStepCosts(steps, source);
const policy: LadderPolicy = { segmentMs: 2000, holdDownMs: 30_000, maxHoldDownMs: 240_000, headroom: 0.8 };
const names = (step: number) => steps[step]!.map((r) => r.name);

const sample = (o: Partial<LoadSample>): LoadSample => ({
  now: 100_000,
  lagMs: 200,
  speed: 1,
  streamCores: 1,
  idleCores: 0,
  ...o,
});
const at = (step: number, o: Partial<LadderState> = {}): LadderState => ({
  step,
  changedAt: 0,
  holdDownMs: 30_000,
  ...o,
});

describe('ladder steps for capacity', () => {
  it('drop the most expensive rung first, down to the lowest alone, then the source remuxed', () => {
    assert.deepEqual(
      steps.map((s) => s.map((r) => r.name)),
      [['720p', '480p', '360p', '160p'], ['480p', '360p', '160p'], ['360p', '160p'], ['160p'], ['source']],
    );
    assert.ok(
      costs.every((c, i) => i === 0 || c < costs[i - 1]!),
      'each step is cheaper than the one before',
    );
    // Without a remux (a source players could not take as it is) the lowest rung is the floor.
    assert.deepEqual(ladderSteps(full.slice(3), null), [full.slice(3)]);
  });

  it('the remux is the source as it is: its size and rate, parts of whole frames, its own CODECS', () => {
    const r = sourceRendition({ width: 1280, height: 720, frameRate: 29.97 }, 2000, 'avc1.42e01f,mp4a.40.2', 333);
    assert.deepEqual(
      { name: r.name, w: r.width, h: r.height, fps: r.frameRate, copy: r.copy, part: r.partFrames, codecs: r.codecs },
      { name: 'source', w: 1280, h: 720, fps: 29.97, copy: true, part: 10, codecs: 'avc1.42e01f,mp4a.40.2' },
    );
    assert.equal(sourceCodecs('h264', 'High', 31), 'avc1.64001f,mp4a.40.2');
    assert.equal(sourceCodecs('h264', 'Constrained Baseline', 30), 'avc1.42e01e,mp4a.40.2');
    assert.equal(sourceCodecs('h264', 'Main', 40), 'avc1.4d4028,mp4a.40.2');
    assert.equal(sourceCodecs('h264', null, null), 'avc1.640033,mp4a.40.2');
  });
});

describe('decideLadder: degrade, never fall behind', () => {
  it('keeps the ladder while the newest part is within a segment of real time', () => {
    const d = decideLadder(at(0), sample({ lagMs: 2000, speed: 0.7 }), costs, policy);
    assert.deepEqual(d, { change: false, state: at(0) });
  });

  it('more than a segment behind: straight to the richest step the measured speed pays for', () => {
    // 0.5x on the full ladder: 40% of its cost fits (with the 0.8 headroom): 360p + 160p does.
    const d = decideLadder(at(0), sample({ lagMs: 2100, speed: 0.5 }), costs, policy);
    assert.equal(d.change, true);
    assert.equal(d.change && d.reason, 'BELOW_REAL_TIME');
    assert.deepEqual(names(d.state.step), ['360p', '160p']);
    assert.ok(costs[2]! <= costs[0]! * 0.5 * 0.8 && costs[1]! > costs[0]! * 0.5 * 0.8);
    assert.deepEqual(d.state, { step: 2, changedAt: 100_000, holdDownMs: 60_000 });
  });

  it('late with no speed measured yet: kept; when nothing encoded fits, the remux', () => {
    const unknown = decideLadder(at(1), sample({ lagMs: 2500, speed: null }), costs, policy);
    assert.equal(unknown.change, false);
    const none = decideLadder(at(0), sample({ lagMs: 2500, speed: 0.02 }), costs, policy);
    assert.deepEqual(names(none.state.step), ['source']);
  });

  it('late but encoding at or above real time is catching up (a source that stalled, then burst): kept', () => {
    const d = decideLadder(at(0), sample({ lagMs: 4000, speed: 1.6 }), costs, policy);
    assert.equal(d.change, false);
    assert.equal(decideLadder(at(0), sample({ lagMs: 4000, speed: 0.99 }), costs, policy).change, true);
  });

  it('the remux is the floor: behind there, it stays (nothing cheaper to go to)', () => {
    const d = decideLadder(at(4), sample({ lagMs: 9000, speed: 0.5 }), costs, policy);
    assert.equal(d.change, false);
  });

  it('each drop doubles the hold-down, up to its cap', () => {
    const d = decideLadder(at(0, { holdDownMs: 200_000 }), sample({ lagMs: 3000, speed: 0.5 }), costs, policy);
    assert.equal(d.state.holdDownMs, 240_000);
  });

  it('a rung comes back only after the hold-down, while keeping up, with the CPU it needs idle', () => {
    // At 360p+160p, one core for this ffmpeg; 480p back costs about cores x (cost ratio - 1) / headroom.
    const extra = (costs[1]! / costs[2]! - 1) / 0.8;
    const ready = { now: 100_000, lagMs: 300, streamCores: 1, idleCores: extra + 0.01 };
    const up = decideLadder(at(2, { changedAt: 60_000 }), sample(ready), costs, policy);
    assert.equal(up.change && up.reason, 'CAPACITY_FREED');
    assert.deepEqual(names(up.state.step), ['480p', '360p', '160p']);
    assert.equal(up.state.holdDownMs, 30_000, 'a rung back keeps the hold-down: only a drop grows it');
    assert.equal(up.state.changedAt, 100_000);

    for (const [why, o] of [
      ['within the hold-down', { now: 89_999 }],
      ['not enough idle CPU', { idleCores: extra - 0.01 }],
      ['still catching up (lag over half a segment)', { lagMs: 1000 }],
      ['no CPU measured', { streamCores: null }],
      ['no lag measured', { lagMs: null }],
    ] as const) {
      const d = decideLadder(at(2, { changedAt: 60_000 }), sample({ ...ready, ...o }), costs, policy);
      assert.equal(d.change, false, why);
    }
    assert.equal(decideLadder(at(0), sample({ ...ready, idleCores: 100 }), costs, policy).change, false, 'full');
  });

  it('no flapping: a stream that keeps failing waits twice as long each time before trying again', () => {
    // Behind on the full ladder at t=0, fine on the next step; a rung back at the first chance
    // fails again, and so on: the gaps between tries grow.
    let state = initialLadderState(0, policy);
    const tries: number[] = [];
    for (let now = 0; now < 600_000; now += 1000) {
      const lagMs = state.step === 0 ? 2500 : 100;
      const d = decideLadder(state, sample({ now, lagMs, speed: 0.9, streamCores: 0.5, idleCores: 2 }), costs, policy);
      if (d.change && d.reason === 'CAPACITY_FREED') tries.push(now);
      state = d.state;
    }
    const gaps = tries.slice(1).map((t, i) => t - tries[i]!);
    assert.ok(tries.length >= 3);
    assert.ok(
      gaps.every((g, i) => i === 0 || g > gaps[i - 1]! || g >= 240_000),
      `gaps grow: ${gaps.join(', ')}`,
    );
  });
});

describe('measuring', () => {
  it("reads ffmpeg's -progress blocks", () => {
    const r = new ProgressReader();
    const lines = ['frame=30', 'fps=14.99', 'bitrate= 448.7kbits/s', 'out_time_us=1933398', 'speed=0.966x'];
    for (const l of lines) assert.equal(r.push(l), null);
    assert.deepEqual(r.push('progress=continue'), { frames: 30, averageSpeed: 0.966, end: false });
    r.push('out_time_us=N/A');
    r.push('speed=N/A');
    assert.equal(r.push('progress=continue'), null, 'no frame count: nothing to report');
    r.push('frame=120');
    assert.deepEqual(r.push('progress=end'), { frames: 120, averageSpeed: null, end: true });
    assert.ok(ProgressReader.isProgressLine('speed=0.5x'));
    assert.ok(!ProgressReader.isProgressLine('[libx264 @ 0x5581] using cpu capabilities'));
  });

  it('speed over an interval, not since the start', () => {
    // 18 frames at 30 fps in one second: 0.6x real time.
    assert.equal(intervalSpeed({ frames: 300, at: 50_000 }, { frames: 318, at: 51_000 }, 30), 0.6);
    assert.equal(intervalSpeed({ frames: 0, at: 5 }, { frames: 10, at: 5 }, 30), null);
  });

  it('CPU ticks from /proc', () => {
    // Field 2 may hold spaces and parentheses; utime and stime are fields 14 and 15.
    const stat = '4242 (ffmpeg (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 1500 250 0 0 20 0 3 0 100 0 0';
    assert.equal(procCpuTicks(stat), 1750);
    assert.equal(procCpuTicks('garbage'), null);
    const machine = 'cpu  100 5 50 800 45 0 0 0 0 0\ncpu0 50 2 25 400 20 0 0 0 0 0\n';
    assert.deepEqual(machineTicks(machine), { busy: 155, total: 1000 });
  });
});
