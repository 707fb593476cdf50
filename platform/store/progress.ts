import cliProgress from 'cli-progress';
import type { GroupProgress } from '../kafka/groups.ts';

/**
 * Replay progress for a person: a live bar (events/s, ETA) on a terminal, and on anything else
 * (CI logs, a pipe) a plain line every few seconds and at each quarter of the way, which stays
 * readable when captured.
 *
 * The pace, and so the ETA, is counted from the first events the rebuild got done, not from the
 * start: connecting, making the target and the group's join move nothing, and counted in, they
 * made the ETA early on longer than what was left.
 */
export interface ProgressView {
  update(p: GroupProgress): void;
  stop(): void;
}

export interface Rate {
  perSecond: number;
  etaSeconds: number | undefined;
}

/** Where the pace is counted from: the first report with events done, and when it came (ms). */
export interface PaceStart {
  at: number;
  done: number;
}

/** Events/s from `from` to `p` at `now` (ms), and the time left at that pace. */
export function rateOf(p: GroupProgress, now: number, from: PaceStart | undefined): Rate {
  const left = Math.max(0, p.total - p.done);
  const span = from ? now - from.at : 0;
  const perSecond = from && span > 0 ? ((p.done - from.done) * 1000) / span : 0;
  return { perSecond, etaSeconds: left === 0 ? 0 : perSecond > 0 ? left / perSecond : undefined };
}

export function progressLine(label: string, p: GroupProgress, rate: Rate): string {
  const pct = p.total ? Math.floor((p.done * 100) / p.total) : 100;
  const n = (x: number): string => x.toLocaleString('en-US');
  return `${label}: ${n(p.done)}/${n(p.total)} events (${pct}%), ${n(Math.round(rate.perSecond))} ev/s, ETA ${eta(rate)}`;
}

const eta = (rate: Rate): string => (rate.etaSeconds === undefined ? '?' : `${Math.round(rate.etaSeconds)} s`);

export function progressView(
  label: string,
  opts: { tty: boolean; write?: (line: string) => void; everyMs?: number; now?: () => number },
): ProgressView {
  const now = opts.now ?? Date.now;
  let from: PaceStart | undefined;
  const pace = (p: GroupProgress): Rate => {
    const at = now();
    if (!from && p.done > 0) from = { at, done: p.done };
    return rateOf(p, at, from);
  };
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | ETA {eta}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update(p) {
        const r = pace(p);
        const payload = { rate: Math.round(r.perSecond).toLocaleString('en-US'), eta: eta(r) };
        if (!begun) bar.start(p.total, p.done, payload);
        begun = true;
        bar.setTotal(p.total);
        bar.update(p.done, payload);
      },
      stop: () => bar.stop(),
    };
  }
  const write = opts.write ?? ((line: string) => console.log(line));
  const every = opts.everyMs ?? 5000;
  const quarter = (p: GroupProgress): number => (p.total ? Math.floor((p.done * 4) / p.total) : 4);
  let last: GroupProgress | undefined;
  let lastAt = -Infinity;
  let lastQuarter = 0;
  return {
    update(p) {
      const r = pace(p);
      last = p;
      if (now() - lastAt < every && quarter(p) <= lastQuarter) return;
      lastAt = now();
      lastQuarter = quarter(p);
      write(progressLine(label, p, r));
    },
    stop() {
      if (last) write(progressLine(label, last, pace(last)));
    },
  };
}
