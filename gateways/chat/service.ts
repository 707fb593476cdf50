import { randomUUID } from 'node:crypto';
import type { ChatEvent } from '../../schemas/generated/events.ts';
import type { Logger } from '../../platform/logger.ts';
import { isTimeUuid, minTimeUuid, timeOfTimeUuid, type TimeUuidGenerator } from '../../platform/timeuuid.ts';
import { decide, type ChatStream, type Identity } from '../../domain/chat/decide.ts';
import { IntakeLimits, type LimitsConfig } from '../../domain/chat/limits.ts';
import { ModerationState, moderationEffects, type ModerationEffect } from '../../domain/chat/moderation.ts';
import type { ArchivedMessage } from '../../domain/chat/history.ts';
import { CHAT_ERRORS, ChatError, type ChatErrorCode } from './errors.ts';
import type { ChatMetrics } from './metrics.ts';
import { encode, lineOf, parseClientFrame } from './protocol.ts';
import { RecentMessages } from './recent.ts';
import { KeyedLock } from '../../platform/keyed-lock.ts';
import { TransientError } from '../../platform/errors.ts';

/**
 * The chat gateway's service: everything between a connection and the topic, with no transport
 * in it (the uWS adapter calls it; tests can too).
 *
 * Kafka is the only path: a command from a connection becomes one ChatEvent that is published;
 * viewers, the sender included, see it only when it comes back from the topic through `apply`,
 * which every gateway instance runs for every record in topic order. So all instances show one
 * stream's chat in the same order, and what an instance shows is exactly what was accepted.
 *
 * Per stream ("room") it keeps the recent messages in topic order, the moderation state (folded
 * from the topic and merged with the archive's, loaded when first needed), and the number of
 * local connections. Rooms nobody is connected to are dropped after `roomIdleMs`.
 */
export interface ChatConnection {
  readonly id: number;
  readonly streamId: string;
  /** Undefined for anonymous viewers: they read, they do not send. */
  readonly user: Identity | undefined;
  send(frame: string): void;
  /** Ends the connection with the close code the error table gives `code`. */
  close(code: ChatErrorCode): void;
}

export interface StreamDirectory {
  get(streamId: string): ChatStream | undefined;
}

export interface ChatArchive {
  before(streamId: string, beforeId: string | undefined, limit: number): Promise<ArchivedMessage[]>;
  after(streamId: string, sinceId: string, limit: number): Promise<{ messages: ArchivedMessage[]; complete: boolean }>;
  moderation(streamId: string): Promise<ModerationEffect[]>;
}

export interface ChatServiceDeps {
  streams: StreamDirectory;
  archive: ChatArchive;
  publish: (event: ChatEvent) => Promise<void>;
  /** Sends a frame to every local connection of a stream, in call order. */
  broadcast: (streamId: string, frame: string) => void;
  ids: TimeUuidGenerator;
  clock: () => number;
  log: Logger;
  metrics: ChatMetrics;
}

export interface ChatServiceConfig {
  historyOnJoin: number;
  recentPerStream: number;
  resumeMax: number;
  pageMax: number;
  retentionMs: number;
  roomIdleMs: number;
  /** How long a join waits on the archive before going on with what this instance holds. */
  storeWaitMs: number;
  /**
   * How long a signed-in user's command waits for the stream's moderation state before it is
   * refused as unavailable: it cannot be decided without the bans, and must not hang either.
   */
  commandWaitMs: number;
  limits: LimitsConfig;
  flood: { frames: number; windowMs: number };
}

/** A paging cursor: a message id, or an ISO-8601 time (the lowest id of that millisecond). */
function cursor(name: string, value: string): string {
  if (isTimeUuid(value)) return value;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw new ChatError('invalid_request', `${name} must be a message id or an ISO-8601 time`);
  return minTimeUuid(at);
}

/** What the upgrade learned before the socket exists; `join` turns it into the first frame. */
export interface Admission {
  streamId: string;
  user: Identity | undefined;
  since: string | undefined;
  archivedSince: { messages: ArchivedMessage[]; complete: boolean } | undefined;
}

interface Room {
  recent: RecentMessages;
  moderation: ModerationState;
  moderationLoaded: boolean;
  loadingModeration: Promise<void> | undefined;
  warm: boolean;
  warming: Promise<void> | undefined;
  connections: number;
  touchedAt: number;
}

export class ChatService {
  private readonly rooms = new Map<string, Room>();
  private readonly floods = new Map<number, { since: number; frames: number }>();
  private readonly inOrder = new KeyedLock();
  private readonly limits: IntakeLimits;

  constructor(
    private readonly deps: ChatServiceDeps,
    private readonly cfg: ChatServiceConfig,
  ) {
    this.limits = new IntakeLimits(cfg.limits);
  }

  /** Throws ChatError('stream_not_found') for a stream this instance does not know. */
  requireStream(streamId: string): ChatStream {
    const stream = this.deps.streams.get(streamId);
    if (!stream) throw new ChatError('stream_not_found', 'no such stream');
    return stream;
  }

  /** Upgrade time: may this connection open, and what must its first frame hold? Throws ChatError. */
  async admit(streamId: string, user: Identity | undefined, since: string | undefined): Promise<Admission> {
    this.requireStream(streamId);
    if (since !== undefined && !isTimeUuid(since)) throw new ChatError('invalid_request', 'since must be a message id');
    const room = this.room(streamId);
    await Promise.all([
      this.withinStoreWait('warm history', this.warm(streamId, room)),
      user && this.withinStoreWait('load moderation', this.loadModeration(streamId, room)),
    ]);
    let archivedSince: Admission['archivedSince'];
    if (since && !room.recent.after(since)) {
      archivedSince = await this.withinStoreWait(
        'read since',
        this.deps.archive.after(streamId, since, this.cfg.resumeMax),
      );
    }
    return { streamId, user, since, archivedSince };
  }

  /** Open time, synchronous: nothing from the topic can slip between the history and the live frames. */
  join(conn: ChatConnection, admission: Admission): void {
    const room = this.room(conn.streamId);
    room.connections++;
    this.deps.metrics.connections.inc();
    const { messages, complete } = this.firstFrame(room, admission);
    conn.send(encode.history(messages, complete));
  }

  leave(conn: ChatConnection): void {
    this.floods.delete(conn.id);
    const room = this.rooms.get(conn.streamId);
    if (room) {
      room.connections--;
      room.touchedAt = this.deps.clock();
    }
    this.deps.metrics.connections.dec();
  }

  /**
   * A text frame from a connection. Never throws: every failure is an error frame or a close.
   * Frames of one connection are handled one after another, so a viewer's messages reach the
   * topic (and everyone) in the order they were sent, even though publishing is asynchronous.
   */
  receive(conn: ChatConnection, text: string): Promise<void> {
    if (this.flooded(conn)) {
      this.refuse(conn, 'flood', 'too many frames');
      return Promise.resolve();
    }
    return this.inOrder.run(String(conn.id), () => this.handle(conn, text));
  }

  private async handle(conn: ChatConnection, text: string): Promise<void> {
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return this.refuse(conn, parsed.code, parsed.message, { nonce: parsed.nonce });
    const { command, nonce } = parsed;
    const user = conn.user;
    if (!user) return this.refuse(conn, 'unauthorized', 'sign in to chat: connect with a ticket', { nonce });
    try {
      const room = this.room(conn.streamId);
      if (!room.moderationLoaded) await this.moderationWithin(conn.streamId, room);
      const now = this.deps.clock();
      const decision = decide(command, {
        stream: this.deps.streams.get(conn.streamId),
        actor: user,
        moderation: room.moderation,
        now,
        eventId: randomUUID(),
        messageId: this.deps.ids.next(now),
        retentionMs: this.cfg.retentionMs,
      });
      if (!decision.ok) {
        return this.refuse(conn, decision.code, decision.message, {
          nonce,
          ...(decision.until && { until: decision.until }),
        });
      }
      const { event } = decision;
      const sent = event.payload.type === 'ChatMessageSent' ? event.payload : undefined;
      if (sent) {
        const verdict = this.limits.tryAcquire(event.streamId, user.userId, sent.messageId, sent.content, now);
        if (!verdict.ok) {
          const msg = verdict.code === 'rate_limited' ? 'slow down: too many messages' : 'you just sent that';
          return this.refuse(conn, verdict.code, msg, {
            nonce,
            ...(verdict.code === 'rate_limited' && { retryAfterMs: verdict.retryAfterMs }),
          });
        }
      }
      try {
        await this.deps.publish(event);
      } catch (err) {
        if (sent) this.limits.release(event.streamId, user.userId, sent.messageId);
        this.deps.log.warn({ err, streamId: event.streamId }, 'could not publish a chat event');
        return this.refuse(conn, 'unavailable', 'chat is unavailable; try again shortly', { nonce });
      }
      this.deps.metrics.accepted.inc({ type: event.payload.type });
      conn.send(encode.ack(nonce, sent?.messageId));
    } catch (err) {
      const unavailable = (err as { retriable?: boolean }).retriable === true;
      if (!unavailable) this.deps.log.error({ err, streamId: conn.streamId }, 'chat frame failed');
      this.refuse(
        conn,
        unavailable ? 'unavailable' : 'internal',
        unavailable ? 'chat is unavailable; try again shortly' : 'internal error',
        { nonce },
      );
    }
  }

  /** An event from the topic, in topic order: update the room, then show it to the room's viewers. */
  apply(event: ChatEvent): void {
    const room = this.room(event.streamId);
    const p = event.payload;
    switch (p.type) {
      case 'ChatMessageSent':
        room.recent.push(lineOf(event, p));
        this.limits.observe(event.streamId, p.userId, p.messageId, p.content, event.occurredAt);
        break;
      case 'ChatMessageDeleted':
        room.recent.remove(p.messageId);
        break;
      case 'UserTimedOut':
      case 'UserBanned':
      case 'UserUnbanned':
      case 'ModeratorAdded':
      case 'ModeratorRemoved':
        for (const fx of moderationEffects(event)) room.moderation.apply(fx);
        break;
      default: {
        const _exhaustive: never = p;
        return _exhaustive;
      }
    }
    if (room.connections > 0) this.deps.broadcast(event.streamId, encode.event(event));
  }

  /**
   * GET history: the newest `limit`, or the `limit` before a message id or a time; oldest first.
   * Throws ChatError.
   */
  async page(
    streamId: string,
    beforeParam: string | undefined,
    limit: number,
  ): Promise<{ messages: ArchivedMessage[]; nextBefore: string | null }> {
    this.checkPage(streamId, limit);
    const before = beforeParam === undefined ? undefined : cursor('before', beforeParam);
    const archived = await this.deps.archive.before(streamId, before, limit);
    // The newest page also holds what the archiver has not written yet, if this instance has it.
    const room = before ? undefined : this.rooms.get(streamId);
    const messages = room ? room.recent.withArchived(archived).slice(-limit) : archived;
    return { messages, nextBefore: messages.length === limit ? messages[0]!.messageId : null };
  }

  /**
   * GET history forwards: the `limit` after a message id or a time, oldest first, from the archive
   * (a recording's chat, replayed as its video plays). Throws ChatError.
   */
  async pageAfter(
    streamId: string,
    afterParam: string,
    limit: number,
  ): Promise<{ messages: ArchivedMessage[]; nextAfter: string | null }> {
    this.checkPage(streamId, limit);
    const { messages, complete } = await this.deps.archive.after(streamId, cursor('after', afterParam), limit);
    return { messages, nextAfter: complete ? null : messages[messages.length - 1]!.messageId };
  }

  private checkPage(streamId: string, limit: number): void {
    if (!this.deps.streams.get(streamId)) throw new ChatError('stream_not_found', 'no such stream');
    if (!Number.isInteger(limit) || limit < 1 || limit > this.cfg.pageMax) {
      throw new ChatError('invalid_request', `limit must be 1 to ${this.cfg.pageMax}`);
    }
  }

  /** Drops idle rooms and forgotten rate-limit logs; call every few seconds. */
  sweep(): void {
    const now = this.deps.clock();
    for (const [id, room] of this.rooms) {
      if (room.connections === 0 && now - room.touchedAt > this.cfg.roomIdleMs) this.rooms.delete(id);
    }
    this.limits.prune(now);
    this.deps.metrics.rooms.set(this.rooms.size);
  }

  private firstFrame(room: Room, a: Admission): { messages: ArchivedMessage[]; complete: boolean } {
    if (!a.since) return { messages: room.recent.last(this.cfg.historyOnJoin), complete: true };
    let messages = room.recent.after(a.since);
    let complete = true;
    if (!messages) {
      // Not held here (older than this instance's window, or deleted): the archive's answer,
      // then what this instance holds from that point on.
      const from = timeOfTimeUuid(a.since);
      const held = room.recent
        .last(this.cfg.recentPerStream)
        .filter((m) => m.sentAt >= from && m.messageId !== a.since);
      messages = [
        ...(a.archivedSince?.messages.filter((m) => !held.some((h) => h.messageId === m.messageId)) ?? []),
        ...held,
      ];
      complete = a.archivedSince?.complete ?? false;
    }
    if (messages.length > this.cfg.resumeMax) return { messages: messages.slice(-this.cfg.resumeMax), complete: false };
    return { messages, complete };
  }

  private room(streamId: string): Room {
    let room = this.rooms.get(streamId);
    if (!room) {
      room = {
        recent: new RecentMessages(this.cfg.recentPerStream),
        moderation: new ModerationState(),
        moderationLoaded: false,
        loadingModeration: undefined,
        warm: false,
        warming: undefined,
        connections: 0,
        touchedAt: 0,
      };
      this.rooms.set(streamId, room);
    }
    room.touchedAt = this.deps.clock();
    return room;
  }

  /** Brings the archive's newest messages into a room once; concurrent joins share the read. */
  private warm(streamId: string, room: Room): Promise<void> {
    if (room.warm) return Promise.resolve();
    room.warming ??= this.deps.archive
      .before(streamId, undefined, this.cfg.historyOnJoin)
      .then((archived) => {
        room.recent.prependArchived(archived);
        room.warm = true;
      })
      .finally(() => (room.warming = undefined));
    return room.warming;
  }

  private loadModeration(streamId: string, room: Room): Promise<void> {
    if (room.moderationLoaded) return Promise.resolve();
    room.loadingModeration ??= this.deps.archive
      .moderation(streamId)
      .then((effects) => {
        for (const fx of effects) room.moderation.apply(fx);
        room.moderationLoaded = true;
      })
      .finally(() => (room.loadingModeration = undefined));
    return room.loadingModeration;
  }

  private async moderationWithin(streamId: string, room: Room): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.deps.log.warn(
          { streamId, waitMs: this.cfg.commandWaitMs },
          'moderation state is slow to load from the archive',
        );
        reject(new TransientError('the moderation state did not load in time'));
      }, this.cfg.commandWaitMs);
    });
    try {
      await Promise.race([this.loadModeration(streamId, room), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Joins must not hang on a slow or absent archive: past the wait, go on with what is held here. */
  private async withinStoreWait<T>(what: string, work: Promise<T>): Promise<T | undefined> {
    const LATE = Symbol('late');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), this.cfg.storeWaitMs)));
    try {
      const result = await Promise.race([work, late]);
      if (result !== LATE) return result;
      this.deps.log.warn({ what, waitMs: this.cfg.storeWaitMs }, 'chat archive is slow; going on without it');
    } catch (err) {
      this.deps.log.warn({ err, what }, 'chat archive unavailable; going on without it');
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  }

  private flooded(conn: ChatConnection): boolean {
    const now = this.deps.clock();
    const f = this.floods.get(conn.id);
    if (!f || now - f.since >= this.cfg.flood.windowMs) {
      this.floods.set(conn.id, { since: now, frames: 1 });
      return false;
    }
    return ++f.frames > this.cfg.flood.frames;
  }

  private refuse(
    conn: ChatConnection,
    code: ChatErrorCode,
    message: string,
    extra: { nonce?: string | undefined; retryAfterMs?: number; until?: number } = {},
  ): void {
    this.deps.metrics.refused.inc({ code });
    if (CHAT_ERRORS[code].close) conn.close(code);
    else conn.send(encode.error(code, message, extra));
  }
}
