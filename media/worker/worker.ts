import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { MediaEventPayload } from '../../schemas/generated/events.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import { probe } from '../../platform/ffmpeg.ts';
import type { Decoder, Encoder } from '../../platform/ffmpeg.ts';
import { partTargetMs, segmentDurationMs, selectLadder, type PartTargets, type RenditionName } from '../ladder.ts';
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
}

const MAX_BACKOFF_MS = 30_000;

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
  private readonly m: {
    transcodes: Gauge;
    segments: Counter<'rendition'>;
    parts: Counter<'rendition'>;
    partDelay: Histogram;
    lag: Gauge<'stream'>;
    restarts: Counter;
    failures: Counter;
    refused: Counter<'code'>;
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
    await this.bus.init(['streamLifecycle', 'mediaSegments']);
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
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.ownership?.stop();
    await Promise.all([...this.runs.keys()].map((id) => this.stopRun(id)));
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
    const ladder = selectLadder(source, segMs, this.opts.ladder, partTargetMs(s.latencyMode, this.opts.partTargets));
    if (!ladder.length) throw new Error(`no rung of MEDIA_LADDER (${this.opts.ladder.join(',')}) fits the source`);
    const thumbHeight = Math.min(180, ladder[0]!.height);
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
      },
      { publish: (payloads) => this.publish(s.streamId, payloads), ffmpegPath: this.opts.ffmpegPath, log: this.log },
    );
    run.transcoder = transcoder;
    await transcoder.start();
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

  private stopRun(streamId: string, drain = false): Promise<void> {
    const run = this.runs.get(streamId);
    if (!run) return Promise.resolve();
    run.stopping ??= (async () => {
      clearTimeout(run.retryTimer);
      if (drain && run.transcoder && !this.stopping) await run.transcoder.finish(this.opts.drainTimeoutMs ?? 60_000);
      else await run.transcoder?.stop();
      if (this.runs.get(streamId) === run) this.runs.delete(streamId);
      this.countTranscodes();
      this.m.lag.remove({ stream: streamId });
      this.behind.delete(streamId);
    })();
    return run.stopping;
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

  private async publish(streamId: string, payloads: MediaEventPayload[]): Promise<void> {
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
      }
    }
  }
}
