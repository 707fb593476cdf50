import type { LadderReason } from '../schemas/generated/events.ts';
import type { ChosenRendition, SourceInfo } from './ladder.ts';

/**
 * Degrade, never fall behind: which ladder a stream's transcode should run, decided from what the
 * worker measures of it. Pure; the worker feeds it every part's lag and every ffmpeg progress
 * report and restarts the transcode when it answers with a new step.
 *
 * The steps, richest first: the full ladder, then with its most expensive rung dropped, and so on
 * down to the lowest rung alone, then the source remuxed (`-c:v copy`, no encode at all). Each
 * step is cheaper than the one before.
 *
 * Down: a run whose newest part is more than one segment behind its own wall clock, while ffmpeg
 * has been measured below real time, is short of capacity. It moves at once to the richest step
 * that the measured speed says fits (cost of the step <= cost now x speed x headroom), and its
 * hold-down doubles (up to a cap), so a stream that keeps failing waits longer before trying
 * again. Late with no speed measured yet (a run's first seconds, often late only because the
 * machine was busy starting it) is not enough to drop a rung.
 *
 * Up: after the hold-down, while the run keeps up (lag under half a segment), the next step up is
 * tried when the machine's idle CPU covers what that step would add: this ffmpeg's own CPU scaled
 * by the cost ratio, over the headroom. The hold-down and the headroom are the hysteresis: a rung
 * that just failed does not come back until the hold-down has passed and the CPU it needs is idle.
 */
export interface LadderPolicy {
  segmentMs: number;
  /** First wait after a change before a rung may come back; doubled at every drop. */
  holdDownMs: number;
  maxHoldDownMs: number;
  /** Share of a measured capacity a choice may use (0.8: keep a fifth spare). */
  headroom: number;
}

export interface LadderState {
  /** Index into the steps: 0 is the full ladder. */
  step: number;
  /** When the step last changed (or the stream started). */
  changedAt: number;
  holdDownMs: number;
}

export interface LoadSample {
  now: number;
  /** The run's newest part: how far its last frame is behind the run's wall clock. */
  lagMs: number | null;
  /** ffmpeg's media seconds per wall second over its last progress interval. */
  speed: number | null;
  /** Cores this stream's ffmpeg used over the last interval. */
  streamCores: number | null;
  /** Idle cores of the machine over the last interval. */
  idleCores: number | null;
}

export type LadderDecision =
  | { change: false; state: LadderState }
  | { change: true; state: LadderState; reason: Extract<LadderReason, 'BELOW_REAL_TIME' | 'CAPACITY_FREED'> };

export function initialLadderState(now: number, policy: LadderPolicy): LadderState {
  return { step: 0, changedAt: now, holdDownMs: policy.holdDownMs };
}

/** `costs[i]` is the relative cost of step i (ladderStepCosts); one entry per step. */
export function decideLadder(
  state: LadderState,
  sample: LoadSample,
  costs: readonly number[],
  policy: LadderPolicy,
): LadderDecision {
  const last = costs.length - 1;
  const step = Math.min(state.step, last);
  // ffmpeg at or above real time is catching up (after a source that stalled and then sent its
  // backlog, or a pause of the worker's own): late, but not short of capacity.
  if (
    sample.lagMs !== null &&
    sample.lagMs > policy.segmentMs &&
    sample.speed !== null &&
    sample.speed < 1 &&
    step < last
  ) {
    const budget = costs[step]! * sample.speed * policy.headroom;
    let next = step + 1;
    while (next < last && costs[next]! > budget) next += 1;
    return {
      change: true,
      reason: 'BELOW_REAL_TIME',
      state: { step: next, changedAt: sample.now, holdDownMs: Math.min(policy.maxHoldDownMs, state.holdDownMs * 2) },
    };
  }
  if (step === 0 || sample.now - state.changedAt < state.holdDownMs) return { change: false, state };
  const keepingUp = sample.lagMs !== null && sample.lagMs < policy.segmentMs / 2;
  if (!keepingUp || sample.streamCores === null || sample.idleCores === null) return { change: false, state };
  const extra = (sample.streamCores * (costs[step - 1]! / costs[step]! - 1)) / policy.headroom;
  if (extra > sample.idleCores) return { change: false, state };
  return { change: true, reason: 'CAPACITY_FREED', state: { ...state, step: step - 1, changedAt: sample.now } };
}

/**
 * The steps for one source: the full ladder (highest first), each with one more rung dropped from
 * the top, and last the source remuxed. A ladder that is already one rung still gets the remux.
 */
export function ladderSteps(full: readonly ChosenRendition[], source: ChosenRendition | null): ChosenRendition[][] {
  return [...full.map((_, i) => full.slice(i)), ...(source ? [[source]] : [])];
}

/**
 * Relative cost of each step: pixels per second encoded, plus the one decode every step does (the
 * thumbnails need decoded frames even when the video is only remuxed). x264's work grows about
 * with the pixel rate; decoding costs a fraction of encoding the same picture (DECODE_SHARE).
 */
export const DECODE_SHARE = 0.15;

export function ladderStepCosts(steps: readonly ChosenRendition[][], source: SourceInfo): number[] {
  const decode = source.width * source.height * source.frameRate * DECODE_SHARE;
  return steps.map((rungs) => decode + rungs.reduce((n, r) => n + (r.copy ? 0 : r.width * r.height * r.frameRate), 0));
}

/**
 * ffmpeg's `-progress` output: blocks of key=value lines, each closed by `progress=continue|end`.
 * Its `out_time` is the furthest end of any output stream, and the thumbnail stream's end runs up
 * to 10 s ahead of the video, so media time is counted in frames of the first video output
 * (`frame=`, copied frames included) instead.
 */
export interface ProgressReport {
  /** Frames of the first video output written so far. */
  frames: number;
  /** ffmpeg's own average since it started (`speed=0.61x`); null when it prints N/A. */
  averageSpeed: number | null;
  end: boolean;
}

export class ProgressReader {
  private block = new Map<string, string>();

  /** True for a line of the progress protocol (the caller keeps those out of its log). */
  static isProgressLine(line: string): boolean {
    return /^[a-z_0-9]+=/.test(line.trim());
  }

  push(line: string): ProgressReport | null {
    const m = /^([a-z_0-9]+)=\s*(.*)$/.exec(line.trim());
    if (!m) return null;
    const [, key, value] = m as unknown as [string, string, string];
    if (key !== 'progress') {
      this.block.set(key, value);
      return null;
    }
    const frames = Number(this.block.get('frame') ?? NaN);
    const speed = /^([\d.]+)x$/.exec(this.block.get('speed') ?? '');
    this.block = new Map();
    if (!Number.isFinite(frames)) return null;
    return { frames, averageSpeed: speed ? Number(speed[1]) : null, end: value === 'end' };
  }
}

/**
 * Speed over the last interval, from two reports and the wall clock at each: ffmpeg's own figure
 * is an average since the run started, so a run that fell behind a minute ago would hide a
 * recovery (or a new shortage) for a long while.
 */
export function intervalSpeed(
  before: { frames: number; at: number },
  after: { frames: number; at: number },
  frameRate: number,
): number | null {
  const wall = after.at - before.at;
  if (wall <= 0 || frameRate <= 0) return null;
  return Math.max(0, ((after.frames - before.frames) * 1000) / frameRate / wall);
}

/** CPU time of a process from /proc/<pid>/stat (utime + stime, in clock ticks). */
export function procCpuTicks(stat: string): number | null {
  // The command name (field 2) is in parentheses and may hold spaces: fields count from after it.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

/** The machine's busy and total ticks from the `cpu` line of /proc/stat (idle and iowait count as idle). */
export function machineTicks(stat: string): { busy: number; total: number } | null {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  if (n.length < 4 || n.some((x) => !Number.isFinite(x))) return null;
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = n[3]! + (n[4] ?? 0);
  return { busy: total - idle, total };
}
