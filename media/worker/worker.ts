import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { LadderReason, MediaEventPayload, StreamLoad } from '../../schemas/generated/events.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import { probe } from '../../platform/ffmpeg.ts';
import type { Decoder, Encoder } from '../../platform/ffmpeg.ts';
import {
  partTargetMs,
  segmentDurationMs,
  selectLadder,
  sourceCodecs,
  sourceRendition,
  type ChosenRendition,
  type PartTargets,
  type RenditionName,
} from '../ladder.ts';
import {
  decideLadder,
  initialLadderState,
  intervalSpeed,
  ladderStepCosts,
  ladderSteps,
  type LadderPolicy,
  type LadderState,
} from '../capacity.ts';
import { CpuSampler } from './load.ts';
import { checkSource, type SourceLimits } from '../source-policy.ts';
import { StreamTranscoder } from '../transcoder.ts';
import { applyLifecycle, type LiveStream } from './live-streams.ts';

/**
 * The media worker: a member of a consumer group on live.stream.lifecycle. The partitions the
 * group gives it decide which streams it transcodes, so a dead worker's streams move to another
 * member at the next rebalance. What is live comes from reading the whole topic with a group of
 * its own (a stream that went live long before the rebalance must still be found).
 *
 * A reconcile loop keeps "running transcodes" equal to "live streams in my partitions": it
 * starts what is missing, stops what is no longer wanted (ended, or moved away), and restarts a
 * transcode whose ffmpeg died while its stream is still live, with capped backoff. A source it
 * cannot use (media/source-policy.ts) is refused once per StreamWentLive with a TranscodeRefused
 * event and never retried; the next publish is checked afresh.
 *
 * Degrade, never fall behind (media/capacity.ts decides): a transcode whose newest part falls more
 * than a segment behind its wall clock is restarted at once with a cheaper ladder (top rungs
 * dropped, last the source remuxed), and rungs come back one at a time after a hold-down when the
 * machine has the CPU idle. Each change is a new RenditionLadder (reason, dropped rungs), and the
 * restart is a discontinuity like any other. What the worker runs, how fast and at what CPU is
 * published per worker on live.media.capacity, on every change and every `capacityEveryMs`.
 */
export interface WorkerOptions {
  groupId: string;
  workerId: string;
  mediaRoot: string;
  encoder: Encoder;
  decoder: Decoder;
  x264Preset: string;
  ladder: readonly RenditionName[];
  partTargets?: PartTargets;
  /** Sources above these are refused (default: 2160 lines, 120 fps). */
  sourceLimits?: SourceLimits;
  thumbnailEveryS: number;
  stallTimeoutS: number;
  catchUpDeadlineMs: number;
  /** How long an ended broadcast's transcode may take to finish what it received before it is stopped. */
  drainTimeoutMs?: number;
  ffmpegPath: string;
  onFatal?: (err: Error) => void;
  /** Threads per video encoder (0 or absent: the encoder's choice). */
  threads?: number;
  /** First hold-down before a dropped rung may come back (doubled at every drop, up to 8x). */
  ladderHoldDownMs?: number;
  /** How often the worker's load is measured and published even when nothing changed. */
  capacityEveryMs?: number;
}

/** A stream's ladder steps and where it stands on them; kept across its runs while it is live here. */
interface Adaptive {
  /** The StreamWentLive these steps are for: a new source gets steps of its own, from the top. */
  source: LiveStream['source'];
  steps: ChosenRendition[][];
  costs: number[];
  state: LadderState;
  policy: LadderPolicy;
  /** Why the next run has its step (said once, in its RenditionLadder). */
  reason: LadderReason;
  /** The remux's CODECS, probed from the source the first time it is needed. */
  sourceCodecs: string | null;
}

/** What the worker measures of a run while it transcodes. */
interface RunLoad {
  lagMs: number | null;
  speed: number | null;
  cores: number | null;
  progress: { frames: number; at: number } | null;
}

interface Run {
  transcoder: StreamTranscoder | null;
  /** The StreamWentLive this run started from; a newer one (a publisher back) cuts a backoff short. */
  source: LiveStream['source'];
  sourceUrl: string;
  startedAt: number;
  failures: number;
  /** The source was refused: nothing runs, and nothing is retried until a new StreamWentLive. */
  refused?: boolean;
  retryTimer?: NodeJS.Timeout;
  stopping?: Promise<void>;
  /** Rungs this run transcodes (names, highest first) and those of the full ladder it lacks. */
  renditions: string[];
  dropped: string[];
  /** Of its first rung: ffmpeg's progress counts that rung's frames. */
  frameRate: number;
  load: RunLoad;
}

const MAX_BACKOFF_MS = 30_000;
const DEFAULT_HOLD_DOWN_MS = 30_000;
const DEFAULT_CAPACITY_EVERY_MS = 10_000;
/** A choice may use this share of a measured capacity: the rest absorbs the measuring's noise. */
const HEADROOM = 0.8;

export class MediaWorker implements Component {
  readonly name = 'media-worker';
  private readonly streams = new Map<string, LiveStream>();
  private readonly runs = new Map<string, Run>();
  private owned = new Set<number>();
  private caughtUp = false;
  private stopping = false;
  private state: EventConsumer | undefined;
  private ownership: EventConsumer | undefined;
  private producer: EventProducer | undefined;
  private readonly stateGroup: string;
  /** Streams whose transcode was reported as falling behind (reported again once it recovers). */
  private readonly behind = new Set<string>();
  private readonly adaptive = new Map<string, Adaptive>();
  private readonly cpu = new CpuSampler();
  private loadTimer: NodeJS.Timeout | undefined;
  private reportSoon: NodeJS.Timeout | undefined;
  private lastReport = 0;
  private readonly m: {
    transcodes: Gauge;
    segments: Counter<'rendition'>;
    parts: Counter<'rendition'>;
    partDelay: Histogram;
    lag: Gauge<'stream'>;
    restarts: Counter;
    failures: Counter;
    refused: Counter<'code'>;
    speed: Gauge<'stream'>;
    cpu: Gauge<'stream'>;
    rungs: Gauge<'stream'>;
    dropped: Gauge<'stream'>;
    ladderChanges: Counter<'reason'>;
  };

  constructor(
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly opts: WorkerOptions,
  ) {
    this.stateGroup = `${opts.groupId}.state.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
    const registers = [bus.metrics.registry];
    this.m = {
      transcodes: new Gauge({ name: 'live_media_transcodes', help: 'Streams this worker is transcoding', registers }),
      segments: new Counter({
        name: 'live_media_segments_total',
        help: 'SegmentReady events emitted',
        labelNames: ['rendition'],
        registers,
      }),
      parts: new Counter({
        name: 'live_media_parts_total',
        help: 'PartReady events emitted (LL-HLS parts)',
        labelNames: ['rendition'],
        registers,
      }),
      partDelay: new Histogram({
        name: 'live_media_part_written_delay_seconds',
        help: "From a part's last frame (its program date time + duration, on the run's clock) to the part written and announced: a transcode falling behind real time shows as a growing delay",
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        registers,
      }),
      lag: new Gauge({
        name: 'live_media_transcode_lag_seconds',
        help: "Per stream: how far its newest part's last frame is behind the wall clock of its run (grows while the transcode runs slower than real time)",
        labelNames: ['stream'],
        registers,
      }),
      restarts: new Counter({
        name: 'live_media_restarts_total',
        help: 'Transcodes resumed after ffmpeg died',
        registers,
      }),
      failures: new Counter({
        name: 'live_media_ffmpeg_failures_total',
        help: 'ffmpeg runs that ended in an error',
        registers,
      }),
      refused: new Counter({
        name: 'live_media_refused_total',
        help: 'Sources the worker will not transcode (TranscodeRefused), by code',
        labelNames: ['code'],
        registers,
      }),
      speed: new Gauge({
        name: 'live_media_transcode_speed_ratio',
        help: 'Per stream: media seconds its ffmpeg encoded per wall second over the last progress interval (about 1 s); below 1 is slower than real time',
        labelNames: ['stream'],
        registers,
      }),
      cpu: new Gauge({
        name: 'live_media_transcode_cpu_cores',
        help: 'Per stream: CPU its ffmpeg used over the last measuring interval, in cores',
        labelNames: ['stream'],
        registers,
      }),
      rungs: new Gauge({
        name: 'live_media_ladder_rungs',
        help: 'Per stream: rungs its transcode runs now (a remuxed source counts as one); fewer than its full ladder while degraded',
        labelNames: ['stream'],
        registers,
      }),
      dropped: new Gauge({
        name: 'live_media_ladder_dropped_rungs',
        help: 'Per stream: rungs of its full ladder dropped because the worker could not encode them in real time',
        labelNames: ['stream'],
        registers,
      }),
      ladderChanges: new Counter({
        name: 'live_media_ladder_changes_total',
        help: 'Ladder changes for capacity: BELOW_REAL_TIME (rungs dropped), CAPACITY_FREED (a rung back)',
        labelNames: ['reason'],
        registers,
      }),
    };
  }

  get healthy(): boolean {
    return (this.state?.healthy ?? false) && (this.ownership?.healthy ?? false);
  }

  /** Streams being transcoded here (for tests and /healthz detail). */
  get transcoding(): string[] {
    return [...this.runs.keys()];
  }

  async start(): Promise<void> {
    await this.bus.init(['streamLifecycle', 'mediaSegments', 'mediaCapacity']);
    this.producer = this.bus.producer();
    await this.producer.connect();
    const lifecycle = this.bus.topic('streamLifecycle');
    const onFatal = this.opts.onFatal && { onFatal: this.opts.onFatal };
    this.state = this.bus
      .consumer({ groupId: this.stateGroup, from: 'earliest', ...onFatal })
      .on(lifecycle, async (records) => {
        for (const r of records) applyLifecycle(this.streams, r.event, r.partition);
        this.reconcile();
      });
    await this.state.start();
    await waitForGroupToReachEnd(this.bus, this.stateGroup, [lifecycle.name], {
      deadlineMs: this.opts.catchUpDeadlineMs,
    });
    this.caughtUp = true;
    this.ownership = this.bus
      .consumer({ groupId: this.opts.groupId, ...onFatal })
      .on(lifecycle, async () => undefined)
      .onAssignment((assignment) => {
        this.owned = new Set(assignment[lifecycle.name] ?? []);
        this.log.info({ partitions: [...this.owned].sort((a, b) => a - b) }, 'lifecycle partitions assigned');
        this.reconcile();
      });
    await this.ownership.start();
    this.loadTimer = setInterval(() => void this.measure(), Math.min(2000, this.capacityEveryMs));
    this.loadTimer.unref();
  }

  private get capacityEveryMs(): number {
    return this.opts.capacityEveryMs ?? DEFAULT_CAPACITY_EVERY_MS;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.loadTimer);
    clearTimeout(this.reportSoon);
    await this.ownership?.stop();
    await Promise.all([...this.runs.keys()].map((id) => this.stopRun(id)));
    await this.reportCapacity(true).catch((err: unknown) => this.log.warn({ err }, 'could not publish capacity'));
    await this.state?.stop();
    await deleteConsumerGroup(this.bus, this.stateGroup, this.log);
    await this.producer?.disconnect();
  }

  private wanted(s: LiveStream): boolean {
    return s.status === 'live' && s.source !== null && this.owned.has(s.partition);
  }

  private reconcile(): void {
    if (!this.caughtUp || this.stopping) return;
    for (const [id, run] of this.runs) {
      const s = this.streams.get(id);
      // An ended broadcast's transcode finishes what it already received (the recording keeps
      // every second of it); one that moved to another worker stops at once.
      if (!s || !this.wanted(s)) void this.stopRun(id, s?.status === 'ended' && this.owned.has(s.partition));
      else if (s.source && s.source.sourceUrl !== run.sourceUrl && !run.stopping) {
        this.log.info({ streamId: id, sourceUrl: s.source.sourceUrl }, 'source moved; restarting transcode');
        void this.stopRun(id).then(() => this.reconcile());
      } else if (run.retryTimer && s.source !== run.source && !run.stopping) {
        this.log.info({ streamId: id }, 'publisher back; resuming its transcode now');
        clearTimeout(run.retryTimer);
        this.runs.delete(id);
        this.m.restarts.inc();
      } else if (run.refused && s.source !== run.source && !run.stopping) {
        // A new publish: its source is checked again.
        this.runs.delete(id);
      }
    }
    for (const s of this.streams.values()) {
      if (this.wanted(s) && !this.runs.has(s.streamId)) this.launch(s, 0);
    }
    this.countTranscodes();
  }

  /** Refused sources hold a run (so they are not retried) but transcode nothing. */
  private countTranscodes(): void {
    this.m.transcodes.set([...this.runs.values()].filter((r) => !r.refused).length);
  }

  private launch(s: LiveStream, failures: number): void {
    const run: Run = {
      transcoder: null,
      source: s.source,
      sourceUrl: s.source!.sourceUrl,
      startedAt: Date.now(),
      failures,
      renditions: [],
      dropped: [],
      frameRate: 0,
      load: { lagMs: null, speed: null, cores: null, progress: null },
    };
    this.runs.set(s.streamId, run);
    void this.runOnce(s, run).catch((err: unknown) => {
      this.log.error({ err, streamId: s.streamId }, 'could not start transcoding');
      this.afterExit(s.streamId, run, true);
    });
  }

  private async runOnce(s: LiveStream, run: Run): Promise<void> {
    const src = s.source!;
    const { width, height, frameRate, videoCodec, audioCodec } = src;
    let info = { width, height, frameRate, videoCodec, audioCodec };
    if (info.width === null || info.height === null || info.frameRate === null) {
      info = await probe(src.sourceUrl, this.opts.stallTimeoutS);
    }
    if (run.stopping) return;
    const verdict = checkSource(info, this.opts.sourceLimits ?? { maxHeight: 2160, maxFrameRate: 120 });
    if (!verdict.ok) {
      // Said once for this source; retrying cannot help (the stream stays live without renditions).
      run.refused = true;
      this.m.refused.inc({ code: verdict.code });
      this.log.warn({ streamId: s.streamId, code: verdict.code, reason: verdict.reason }, 'source refused');
      await this.publish(s.streamId, [{ type: 'TranscodeRefused', code: verdict.code, reason: verdict.reason }]);
      this.countTranscodes();
      return;
    }
    const segMs = segmentDurationMs(s.latencyMode);
    const source = { width: info.width!, height: info.height!, frameRate: info.frameRate ?? 30 };
    const partMs = partTargetMs(s.latencyMode, this.opts.partTargets);
    const full = selectLadder(source, segMs, this.opts.ladder, partMs);
    if (!full.length) throw new Error(`no rung of MEDIA_LADDER (${this.opts.ladder.join(',')}) fits the source`);
    const adaptive = this.adaptiveFor(s, full, info.videoCodec, segMs, partMs);
    const reason = adaptive.reason;
    adaptive.reason = 'START';
    let ladder = adaptive.steps[adaptive.state.step]!;
    if (ladder[0]!.copy) {
      adaptive.sourceCodecs ??= await this.probeCodecs(src.sourceUrl, info.videoCodec);
      ladder = [{ ...ladder[0]!, codecs: adaptive.sourceCodecs }];
      if (run.stopping) return;
    }
    run.renditions = ladder.map((r) => r.name);
    run.frameRate = ladder[0]!.frameRate;
    run.dropped = full.map((r) => r.name).filter((n) => !run.renditions.includes(n));
    this.m.rungs.set({ stream: s.streamId }, ladder.length);
    this.m.dropped.set({ stream: s.streamId }, run.dropped.length);
    const thumbHeight = Math.min(180, full[0]!.height);
    const transcoder = new StreamTranscoder(
      {
        streamId: s.streamId,
        input: src.sourceUrl,
        live: true,
        hasAudio: info.audioCodec !== null,
        ladder,
        segmentDurationMs: segMs,
        encoder: this.opts.encoder,
        decoder: this.opts.decoder,
        x264Preset: this.opts.x264Preset,
        mediaRoot: this.opts.mediaRoot,
        thumbnail: {
          everySec: this.opts.thumbnailEveryS,
          width: 2 * Math.round((thumbHeight * source.width) / source.height / 2),
          height: thumbHeight,
        },
        stallTimeoutS: this.opts.stallTimeoutS,
        ...(this.opts.threads ? { threads: this.opts.threads } : {}),
        ladderChange: { reason, dropped: run.dropped },
      },
      {
        publish: (payloads) => this.publish(s.streamId, payloads, run),
        ffmpegPath: this.opts.ffmpegPath,
        log: this.log,
        onProgress: (p) => this.onProgress(s.streamId, run, p),
      },
    );
    run.transcoder = transcoder;
    await transcoder.start();
    this.reportCapacitySoon();
    const exit = await transcoder.exited;
    if (exit.error && !exit.stopped) {
      this.m.failures.inc();
      this.log.warn({ streamId: s.streamId, error: exit.error }, 'ffmpeg ended with an error');
    } else {
      this.log.info({ streamId: s.streamId, stopped: exit.stopped }, 'ffmpeg finished');
    }
    this.afterExit(s.streamId, run, Boolean(exit.error));
  }

  /** A run ended: if the stream is still wanted here, resume it after a backoff. */
  private afterExit(streamId: string, run: Run, failed: boolean): void {
    if (this.runs.get(streamId) !== run || run.stopping) return;
    const s = this.streams.get(streamId);
    if (!s || !this.wanted(s) || this.stopping) {
      this.runs.delete(streamId);
      this.forget(streamId);
      this.countTranscodes();
      return;
    }
    // A run that lasted a while was healthy: its end (source hiccup) starts the backoff afresh.
    const failures = Date.now() - run.startedAt > MAX_BACKOFF_MS ? 0 : run.failures + (failed ? 1 : 0);
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures);
    this.log.info({ streamId, retryInMs: delay }, 'stream still live; resuming its transcode');
    run.retryTimer = setTimeout(() => {
      if (this.runs.get(streamId) !== run || run.stopping) return;
      this.runs.delete(streamId);
      const now = this.streams.get(streamId);
      if (now && this.wanted(now) && !this.stopping) {
        this.m.restarts.inc();
        this.launch(now, failures);
      }
      this.countTranscodes();
    }, delay);
  }

  /** `keepLadder`: the stream goes on here (a ladder change), so where it stands on its steps stays. */
  private stopRun(streamId: string, drain = false, keepLadder = false): Promise<void> {
    const run = this.runs.get(streamId);
    if (!run) return Promise.resolve();
    run.stopping ??= (async () => {
      clearTimeout(run.retryTimer);
      const pid = run.transcoder?.pid;
      if (drain && run.transcoder && !this.stopping) await run.transcoder.finish(this.opts.drainTimeoutMs ?? 60_000);
      else await run.transcoder?.stop();
      if (pid !== undefined) this.cpu.forget(pid);
      if (this.runs.get(streamId) === run) this.runs.delete(streamId);
      this.countTranscodes();
      this.m.lag.remove({ stream: streamId });
      this.m.speed.remove({ stream: streamId });
      this.m.cpu.remove({ stream: streamId });
      this.behind.delete(streamId);
      if (!keepLadder) this.forget(streamId);
      this.reportCapacitySoon();
    })();
    return run.stopping;
  }

  private forget(streamId: string): void {
    this.adaptive.delete(streamId);
    this.m.rungs.remove({ stream: streamId });
    this.m.dropped.remove({ stream: streamId });
  }

  /** The stream's steps, made afresh for a new source (a new publish starts from the full ladder). */
  private adaptiveFor(
    s: LiveStream,
    full: ChosenRendition[],
    videoCodec: string | null,
    segMs: number,
    partMs: number,
  ): Adaptive {
    const known = this.adaptive.get(s.streamId);
    if (known && known.source === s.source) return known;
    const top = full[0]!;
    const info = { width: s.source?.width ?? top.width, height: s.source?.height ?? top.height };
    const source = { ...info, frameRate: s.source?.frameRate ?? top.frameRate };
    // The remux is for H.264 only: an HEVC source's own video would not play in most browsers.
    const remux = videoCodec === 'h264' ? sourceRendition(source, segMs, '', partMs) : null;
    const steps = remux ? ladderSteps(full, remux) : ladderSteps(full, null);
    const policy: LadderPolicy = {
      segmentMs: segMs,
      holdDownMs: this.opts.ladderHoldDownMs ?? DEFAULT_HOLD_DOWN_MS,
      maxHoldDownMs: 8 * (this.opts.ladderHoldDownMs ?? DEFAULT_HOLD_DOWN_MS),
      headroom: HEADROOM,
    };
    const adaptive: Adaptive = {
      source: s.source,
      steps,
      costs: ladderStepCosts(steps, source),
      state: initialLadderState(Date.now(), policy),
      policy,
      reason: 'START',
      sourceCodecs: null,
    };
    this.adaptive.set(s.streamId, adaptive);
    return adaptive;
  }

  private async probeCodecs(url: string, videoCodec: string | null): Promise<string> {
    const p = await probe(url, this.opts.stallTimeoutS).catch((err: unknown) => {
      this.log.warn({ err, url }, 'could not probe the source for its H.264 profile; the remux is labelled High 5.1');
      return null;
    });
    return sourceCodecs(videoCodec, p?.videoProfile ?? null, p?.videoLevel ?? null);
  }

  /**
   * A progress report of the stream's current run: its speed over at least a segment's worth of
   * wall time ("below real time for more than one segment", not one slow second: ffmpeg's
   * one-second reports swing around 1x while it keeps up).
   */
  private onProgress(streamId: string, run: Run, p: { frames: number; at: number }): void {
    if (this.runs.get(streamId) !== run || run.stopping) return;
    const before = run.load.progress;
    const windowMs = this.adaptive.get(streamId)?.policy.segmentMs ?? 0;
    if (before && p.at - before.at < windowMs) return;
    run.load.progress = { frames: p.frames, at: p.at };
    const speed = before ? intervalSpeed(before, run.load.progress, run.frameRate) : null;
    if (speed === null) return;
    run.load.speed = speed;
    this.m.speed.set({ stream: streamId }, speed);
  }

  /**
   * After each part of the current run: keep the ladder, or restart the run on another step. A
   * drop happens at the first part more than a segment late, so within the segment after the one
   * that fell behind.
   */
  private adapt(streamId: string, run: Run): void {
    const adaptive = this.adaptive.get(streamId);
    if (!adaptive || this.runs.get(streamId) !== run || run.stopping || this.stopping) return;
    const decision = decideLadder(
      adaptive.state,
      {
        now: Date.now(),
        lagMs: run.load.lagMs,
        speed: run.load.speed,
        streamCores: run.load.cores,
        idleCores: this.cpu.idleCores,
      },
      adaptive.costs,
      adaptive.policy,
    );
    adaptive.state = decision.state;
    if (!decision.change) return;
    adaptive.reason = decision.reason;
    this.m.ladderChanges.inc({ reason: decision.reason });
    const to = adaptive.steps[decision.state.step]!.map((r) => r.name);
    this.log.warn(
      { streamId, reason: decision.reason, from: run.renditions, to, ...run.load, idleCores: this.cpu.idleCores },
      decision.reason === 'BELOW_REAL_TIME'
        ? 'transcode below real time; restarting with a smaller ladder'
        : 'capacity freed; restarting with one rung more',
    );
    void this.stopRun(streamId, false, true).then(() => this.reconcile());
  }

  /** CPU of the machine and of every ffmpeg; published on the capacity topic when due. */
  private async measure(): Promise<void> {
    await this.cpu.sampleMachine();
    for (const [streamId, run] of this.runs) {
      const pid = run.transcoder?.pid;
      if (pid === undefined || run.stopping) continue;
      const cores = await this.cpu.processCores(pid);
      if (cores === null) continue;
      run.load.cores = cores;
      this.m.cpu.set({ stream: streamId }, cores);
    }
    if (Date.now() - this.lastReport >= this.capacityEveryMs) {
      await this.reportCapacity(false).catch((err: unknown) => this.log.warn({ err }, 'could not publish capacity'));
    }
  }

  /** Starts, stops and ladder changes are told at once (debounced: a rebalance moves many). */
  private reportCapacitySoon(): void {
    if (this.reportSoon || this.stopping) return;
    this.reportSoon = setTimeout(() => {
      this.reportSoon = undefined;
      void this.reportCapacity(false).catch((err: unknown) => this.log.warn({ err }, 'could not publish capacity'));
    }, 500);
  }

  private async reportCapacity(stopping: boolean): Promise<void> {
    if (!this.producer) return;
    this.lastReport = Date.now();
    const streams: StreamLoad[] = stopping
      ? []
      : [...this.runs.entries()]
          .filter(([, r]) => !r.refused && r.renditions.length > 0)
          .map(([streamId, r]) => ({
            streamId,
            renditions: r.renditions,
            dropped: r.dropped,
            speed: r.load.speed,
            lagMs: r.load.lagMs === null ? null : Math.round(r.load.lagMs),
            cpuCores: r.load.cores,
          }));
    await this.producer.publish(this.bus.topic('mediaCapacity'), [
      {
        eventId: randomUUID(),
        occurredAt: this.lastReport,
        workerId: this.opts.workerId,
        cpuCount: this.cpu.cpuCount,
        cpuBusy: this.cpu.busyCores,
        encoder: this.opts.encoder,
        decoder: this.opts.decoder,
        streams,
        stopping,
      },
    ]);
  }

  /**
   * A transcode below real time falls further behind with every part, and its viewers with it:
   * said once when the lag passes a segment (2 s), and again once it is back under half that.
   */
  private reportLag(streamId: string, lagMs: number): void {
    const segmentMs = segmentDurationMs(this.streams.get(streamId)?.latencyMode ?? 'STANDARD');
    if (lagMs > segmentMs && !this.behind.has(streamId)) {
      this.behind.add(streamId);
      this.log.warn({ streamId, lagMs }, 'transcode is falling behind real time');
    } else if (lagMs < segmentMs / 2 && this.behind.delete(streamId)) {
      this.log.info({ streamId, lagMs }, 'transcode is back to real time');
    }
  }

  private async publish(streamId: string, payloads: MediaEventPayload[], run?: Run): Promise<void> {
    const now = Date.now();
    await this.producer!.publish(
      this.bus.topic('mediaSegments'),
      payloads.map((payload) => ({
        eventId: randomUUID(),
        occurredAt: now,
        streamId,
        workerId: this.opts.workerId,
        payload,
      })),
    );
    for (const p of payloads) {
      if (p.type === 'SegmentReady') this.m.segments.inc({ rendition: p.rendition });
      else if (p.type === 'PartReady') {
        this.m.parts.inc({ rendition: p.rendition });
        const lagMs = Math.max(0, Date.now() - p.programDateTime - p.durationMs);
        this.m.partDelay.observe(lagMs / 1000);
        this.m.lag.set({ stream: streamId }, lagMs / 1000);
        this.reportLag(streamId, lagMs);
        if (run && this.runs.get(streamId) === run) run.load.lagMs = lagMs;
      }
    }
    if (run && payloads.some((p) => p.type === 'PartReady')) this.adapt(streamId, run);
  }
}
