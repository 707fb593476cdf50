import cliProgress from 'cli-progress';
import type { GroupProgress } from '../kafka/groups.ts';

/**
 * Replay progress for a person: a live bar (events/s, ETA) on a terminal, and on anything else
 * (CI logs, a pipe) a plain line every few seconds, which stays readable when captured.
 */
export interface ProgressView {
  update(p: GroupProgress): void;
  stop(): void;
}

export interface Rate {
  perSecond: number;
  etaSeconds: number | undefined;
}

/** Events/s over the whole run so far, and the time left at that pace. */
export function rateOf(p: GroupProgress, elapsedMs: number): Rate {
  const perSecond = elapsedMs > 0 ? (p.done * 1000) / elapsedMs : 0;
  const left = Math.max(0, p.total - p.done);
  return { perSecond, etaSeconds: perSecond > 0 ? left / perSecond : left === 0 ? 0 : undefined };
}

export function progressLine(label: string, p: GroupProgress, elapsedMs: number): string {
  const { perSecond, etaSeconds } = rateOf(p, elapsedMs);
  const pct = p.total ? Math.floor((p.done * 100) / p.total) : 100;
  const eta = etaSeconds === undefined ? '?' : `${Math.ceil(etaSeconds)} s`;
  const n = (x: number): string => x.toLocaleString('en-US');
  return `${label}: ${n(p.done)}/${n(p.total)} events (${pct}%), ${n(Math.round(perSecond))} ev/s, ETA ${eta}`;
}

export function progressView(
  label: string,
  opts: { tty: boolean; write?: (line: string) => void; everyMs?: number },
): ProgressView {
  const started = Date.now();
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | ETA {eta_formatted}`,
        etaBuffer: 50,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update(p) {
        const rate = Math.round(rateOf(p, Date.now() - started).perSecond);
        if (!begun) bar.start(p.total, p.done, { rate });
        begun = true;
        bar.setTotal(p.total);
        bar.update(p.done, { rate });
      },
      stop: () => bar.stop(),
    };
  }
  const write = opts.write ?? ((line: string) => console.log(line));
  const every = opts.everyMs ?? 5000;
  let last: GroupProgress | undefined;
  let lastAt = 0;
  return {
    update(p) {
      last = p;
      if (Date.now() - lastAt < every) return;
      lastAt = Date.now();
      write(progressLine(label, p, Date.now() - started));
    },
    stop() {
      if (last) write(progressLine(label, last, Date.now() - started));
    },
  };
}
