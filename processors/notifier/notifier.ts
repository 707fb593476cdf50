import { Counter, Gauge } from 'prom-client';
import type { NotificationCreated, StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import type { StreamRegistry } from '../../domain/stream/registry.ts';
import { jobIdOf, notificationsFor, splitFirstPage, type GoLive } from '../../domain/notifications/fanout.ts';
import type { FanoutJob, FanoutJobs } from './jobs.ts';
import type { SinkLag } from './pacing.ts';

/**
 * The notifier: StreamWentLive on live.stream.lifecycle -> one NotificationCreated per follower
 * on live.notifications (key: recipient), in two lanes.
 *
 * Inline lane (the lifecycle handler): the first `inlineMax` followers of every go-live are read
 * and published before the handler returns, and only then is the go-live's offset committed. A
 * small streamer's whole fan-out is this one page; a crash before the commit sends it again with
 * the same ids.
 *
 * Background lane: when there are more followers, the rest becomes a fan-out job (jobs.ts) before
 * the offset is committed, and runs apart from the handler, page by page, paced by the sink's lag
 * (pacing.ts), recording its cursor after each page Kafka acknowledged. A streamer with a million
 * followers therefore never holds up the lifecycle partition, nor (paced) the sink's queue.
 *
 * Who is live and under which name and title comes from a stream registry the caller keeps
 * caught up with the topic (caught up before start; this handler also applies each lifecycle
 * record it sees, so the registry is never behind the go-live being handled).
 */
const ANNOUNCED_KEPT = 100_000;

export interface NotifierOptions {
  groupId: string;
  /** This process's name as the owner of fan-out jobs; unique per process. */
  instanceId: string;
  inlineMax: number;
  pageSize: number;
  leaseMs: number;
  /** How often unfinished jobs whose owner is gone are looked for. */
  recoverEveryMs: number;
  /** A large fan-out records its progress at most this often (and at least every third of the lease). */
  progressEveryMs: number;
  /** Large fan-outs running at once in this process. */
  concurrency: number;
  /** Go-lives older than this when handled are not announced (a notifier catching up after a day). */
  maxAgeMs: number;
  onFatal?: (err: Error) => void;
}

export interface NotifierDeps {
  bus: EventBus;
  producer: EventProducer;
  registry: StreamRegistry;
  followerIds: (streamerId: string, after: string | null, limit: number) => Promise<string[]>;
  jobs: FanoutJobs;
  pacing: SinkLag;
  log: Logger;
  metrics: Metrics;
  clock?: () => number;
}

export class Notifier implements Component {
  readonly name = 'notifier';
  private consumer: EventConsumer | undefined;
  private readonly running = new Map<string, Promise<void>>();
  /** Go-lives this process has announced, oldest first (bounded): see onLifecycle. */
  private readonly announced = new Set<string>();
  private readonly queue: FanoutJob[] = [];
  private recoverTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly clock: () => number;
  private readonly published: Counter<'lane'>;
  private readonly jobsRunning: Gauge;

  constructor(
    private readonly d: NotifierDeps,
    private readonly opts: NotifierOptions,
  ) {
    this.clock = d.clock ?? Date.now;
    const registers = [d.metrics.registry];
    this.published = new Counter({
      name: 'live_notifier_notifications_total',
      help: 'Notifications acknowledged by Kafka, by lane (inline or background)',
      labelNames: ['lane'],
      registers,
    });
    this.jobsRunning = new Gauge({
      name: 'live_notifier_jobs_running',
      help: 'Large fan-outs this process is running or has queued',
      registers,
      collect: () => this.jobsRunning.set(this.running.size + this.queue.length),
    });
  }

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    const { bus } = this.d;
    await bus.init(['streamLifecycle', 'notifications']);
    await this.d.pacing.start();
    await this.recover();
    this.recoverTimer = setInterval(
      () => void this.recover().catch((err: unknown) => this.d.log.warn({ err }, 'fan-out job recovery failed')),
      this.opts.recoverEveryMs,
    );
    this.consumer = bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(bus.topic('streamLifecycle'), async (records) => {
        for (const r of records) await this.onLifecycle(r.event, Number(r.version));
      });
    await this.consumer.start();
  }

  /** Stops taking go-lives, then lets each large fan-out finish its page; their leases pass to whoever comes next. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.recoverTimer);
    await this.consumer?.stop();
    this.queue.length = 0;
    await Promise.allSettled([...this.running.values()]);
    await this.d.pacing.stop();
  }

  private async onLifecycle(event: StreamLifecycleEvent, offset: number): Promise<void> {
    this.d.registry.applyLifecycle(event, offset);
    if (event.payload.type !== 'StreamWentLive') return;
    const stream = this.d.registry.get(event.streamId);
    if (!stream) {
      this.d.log.warn({ streamId: event.streamId }, 'went live without being created; nobody to notify');
      return;
    }
    const startedAt = event.payload.startedAt;
    if (this.clock() - startedAt > this.opts.maxAgeMs) {
      this.d.log.info({ streamId: event.streamId, startedAt }, 'go-live too old to announce');
      return;
    }
    const goLive: GoLive = {
      streamId: event.streamId,
      startedAt,
      streamerId: stream.streamerId,
      streamerName: stream.streamerName,
      title: stream.title,
    };
    // A publisher that reconnects, or moves to another ingest node, makes ingest announce the
    // broadcast again with its original startedAt: same job id, same notification ids. Within
    // this process it is skipped; after a restart the ids make the bell and the sink show one.
    const jobId = jobIdOf(goLive);
    if (this.announced.has(jobId)) {
      this.d.log.info({ jobId }, 'broadcast resumed; its go-live was announced already');
      return;
    }
    const first = await this.d.followerIds(goLive.streamerId, null, this.opts.inlineMax + 1);
    const { inline, continueAfter } = splitFirstPage(first, this.opts.inlineMax);
    await this.publish(goLive, inline, 'inline');
    this.announced.add(jobId);
    if (this.announced.size > ANNOUNCED_KEPT) this.announced.delete(this.announced.values().next().value!);
    if (continueAfter === null) return;
    const leaseUntil = this.clock() + this.opts.leaseMs;
    if (await this.d.jobs.create(jobId, goLive, continueAfter, this.opts.instanceId, leaseUntil)) {
      this.d.log.info({ jobId, streamerId: goLive.streamerId }, 'large fan-out queued');
      this.enqueue({
        ...goLive,
        jobId,
        cursor: continueAfter,
        sent: inline.length,
        done: false,
        owner: this.opts.instanceId,
        leaseUntil,
      });
    }
  }

  private async publish(goLive: GoLive, recipients: string[], lane: 'inline' | 'background'): Promise<void> {
    if (!recipients.length) return;
    const events: NotificationCreated[] = notificationsFor(goLive, recipients, this.clock());
    await this.d.producer.publish(this.d.bus.topic('notifications'), events);
    this.published.inc({ lane }, events.length);
  }

  /** Claims every unfinished job whose owner's lease has run out and queues it here. */
  private async recover(): Promise<void> {
    if (this.stopping) return;
    const now = this.clock();
    for (const job of await this.d.jobs.unfinished()) {
      if (this.running.has(job.jobId) || this.queue.some((j) => j.jobId === job.jobId)) continue;
      if (job.leaseUntil >= now) continue;
      const leaseUntil = now + this.opts.leaseMs;
      if (await this.d.jobs.claim(job.jobId, this.opts.instanceId, now, leaseUntil)) {
        this.d.log.info({ jobId: job.jobId, cursor: job.cursor, sent: job.sent }, 'resuming a large fan-out');
        this.enqueue({ ...job, owner: this.opts.instanceId, leaseUntil });
      }
    }
  }

  private enqueue(job: FanoutJob): void {
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (!this.stopping && this.running.size < this.opts.concurrency && this.queue.length) {
      const job = this.queue.shift()!;
      const run = this.runJob(job)
        .catch((err: unknown) =>
          // The lease runs out and recovery (here or elsewhere) picks the job up from its cursor.
          this.d.log.warn({ err, jobId: job.jobId }, 'large fan-out interrupted; it resumes when its lease expires'),
        )
        .finally(() => {
          this.running.delete(job.jobId);
          this.pump();
        });
      this.running.set(job.jobId, run);
    }
  }

  /**
   * One large fan-out, page by page. The next page is read, and progress recorded, while the
   * pacing wait runs, so that once the sink has room only the publish stands between two pages.
   * Progress records (LWTs, which also renew the lease) go at most every `progressEveryMs`, one at
   * a time, and a page is published only after the previous record went through: a lost lease
   * stops the job before its next page. A crash re-sends what was published since the last
   * record: the same ids, which the sink writes once.
   */
  private async runJob(job: FanoutJob): Promise<void> {
    const { jobs, log } = this.d;
    const me = this.opts.instanceId;
    const renewEvery = Math.max(100, Math.floor(this.opts.leaseMs / 3));
    const saveEvery = Math.min(renewEvery, this.opts.progressEveryMs);
    let { cursor, sent } = job;
    const started = this.clock();
    let saving = settle(Promise.resolve(true));
    let savedAt = started;
    let saved = cursor;
    const save = (): void => {
      savedAt = this.clock();
      saved = cursor;
      saving = settle(jobs.advance(job.jobId, me, cursor, sent, savedAt + this.opts.leaseMs));
    };
    const held = async (): Promise<boolean> => unwrap(await saving);
    try {
      while (!this.stopping) {
        const page = settle(this.d.followerIds(job.streamerId, cursor, this.opts.pageSize));
        while (!(await this.d.pacing.waitBelowLimit(renewEvery, () => this.stopping))) {
          if (this.stopping) return;
          if (!(await held())) return this.lost(job);
          save();
        }
        if (this.stopping) return;
        if (!(await held())) return this.lost(job);
        const ids = unwrap(await page);
        await this.publish(job, ids, 'background');
        sent += ids.length;
        if (ids.length < this.opts.pageSize) {
          saved = cursor; // done: nothing left to record on the way out
          if (!(await jobs.finish(job.jobId, me, sent))) return this.lost(job);
          log.info({ jobId: job.jobId, sent, seconds: (this.clock() - started) / 1000 }, 'large fan-out done');
          return;
        }
        cursor = ids[ids.length - 1]!;
        if (this.clock() - savedAt >= saveEvery) save();
      }
    } finally {
      // Stopping: what was published since the last record is recorded on the way out, if the job is still ours.
      const last = await saving;
      if (this.stopping && saved !== cursor && last.ok && last.value) {
        save();
        await saving;
      }
    }
  }

  private lost(job: FanoutJob): void {
    this.d.log.warn({ jobId: job.jobId }, 'lost the lease on a large fan-out; another instance holds it');
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; err: unknown };

/** A promise that never rejects, so work started ahead can be awaited later without an unhandled rejection. */
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true, value }),
    (err: unknown) => ({ ok: false, err }),
  );

function unwrap<T>(s: Settled<T>): T {
  if (!s.ok) throw s.err;
  return s.value;
}
