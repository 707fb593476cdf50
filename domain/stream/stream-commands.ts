import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { KeyedLock } from '../../platform/keyed-lock.ts';
import type { Logger } from '../../platform/logger.ts';
import { evolve, type StreamRecord } from './evolve.ts';
import type { StreamRegistry } from './registry.ts';
import type { StreamCommand } from './commands.ts';
import { decide } from './decide.ts';
import { StreamError } from './errors.ts';
import type { StartInput, UpdateInput } from './validation.ts';

/**
 * The stream API's write side: state from the registry projection, `decide`, append to
 * live.stream.lifecycle. No private database: the topic is the only record.
 *
 * Read-your-writes: before answering, wait (bounded) until this instance's own registry has
 * applied the events, so the caller's next request here sees them. The answer itself is computed
 * by folding the new events onto the state with the same `evolve` the projection runs, so it is
 * exactly what the projection will hold even if the wait runs out (then a warning is logged; the
 * write is durable once Kafka acknowledged it).
 *
 * Commands for one stream are serialised within the instance, so a double-click "end" is one end
 * and one 409. Across instances two concurrent commands can both pass `decide`; the projection
 * tolerates the duplicate (a second StreamEnded is a no-op in `evolve`).
 */
export const DEFAULT_MAX_OPEN_STREAMS = 10;

export interface Actor {
  userId: string;
  username: string;
  admin?: boolean;
}

export interface StreamCommandsDeps {
  registry: StreamRegistry;
  publish: (events: StreamLifecycleEvent[]) => Promise<void>;
  readYourWritesMs: number;
  /**
   * Streams a streamer may hold not yet ended (ready or live). Every created stream stays on the
   * lifecycle topic, and in the registry of every service that reads it, for good: one account
   * must not be able to grow them without bound.
   */
  maxOpenStreams?: number;
  /**
   * A stream the registry no longer holds: it keeps every stream not yet ended, and only the
   * latest ended ones (registry.ts), so a command for an older one asks here. Only an `ended`
   * answer counts: a stream that is not ended and not in the registry is one this instance has
   * not applied yet, and is refused as unknown, as before.
   */
  lookupEnded?: (streamId: string) => Promise<StreamRecord | undefined>;
  log: Logger;
  clock?: () => number;
}

export class StreamCommands {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: StreamCommandsDeps) {}

  /** Creates a stream; the returned key is the only time it exists outside the streamer's hands. */
  async start(actor: Actor, input: StartInput): Promise<{ stream: StreamRecord; streamKey: string }> {
    const max = this.deps.maxOpenStreams ?? DEFAULT_MAX_OPEN_STREAMS;
    const open = this.deps.registry.openStreamsOf(actor.userId).length;
    if (open >= max)
      throw new StreamError(
        'too_many_open_streams',
        `you have ${open} streams not yet ended (at most ${max}): end one first`,
      );
    const streamKey = `live_${randomBytes(32).toString('base64url')}`;
    const stream = await this.execute(actor, {
      type: 'StartStream',
      streamId: `stream_${randomBytes(10).toString('hex')}`,
      streamKeyHash: hashStreamKey(streamKey),
      ...input,
    });
    return { stream, streamKey };
  }

  update(actor: Actor, streamId: string, input: UpdateInput): Promise<StreamRecord> {
    return this.execute(actor, { type: 'UpdateStream', streamId, ...input });
  }

  end(actor: Actor, streamId: string): Promise<StreamRecord> {
    return this.execute(actor, { type: 'EndStream', streamId });
  }

  private execute(actor: Actor, command: StreamCommand): Promise<StreamRecord> {
    return this.lock.run(command.streamId, async () => {
      const state = await this.stateOf(command);
      const events = decide(state, command, {
        userId: actor.userId,
        username: actor.username,
        ...(actor.admin && { admin: true }),
        now: (this.deps.clock ?? Date.now)(),
        eventIds: [randomUUID()],
      });
      const after = events.reduce<StreamRecord | undefined>(evolve, state);
      if (!after) throw new Error(`${command.type} left ${command.streamId} without state`);
      if (!events.length) return after;
      const applied = events.map((e) => this.deps.registry.whenApplied(e.eventId, this.deps.readYourWritesMs));
      await this.deps.publish(events);
      if (!(await Promise.all(applied)).every(Boolean)) {
        this.deps.log.warn(
          { streamId: command.streamId, waitedMs: this.deps.readYourWritesMs },
          'own registry has not applied the write yet',
        );
      }
      return after;
    });
  }

  private async stateOf(command: StreamCommand): Promise<StreamRecord | undefined> {
    const held = this.deps.registry.get(command.streamId);
    if (held || command.type === 'StartStream' || !this.deps.lookupEnded) return held;
    const old = await this.deps.lookupEnded(command.streamId);
    return old?.status === 'ended' ? old : undefined;
  }
}

/** What events and the registry carry instead of the key: hex SHA-256 of the whole key string. */
export function hashStreamKey(streamKey: string): string {
  return createHash('sha256').update(streamKey).digest('hex');
}
