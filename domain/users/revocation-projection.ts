import type { UserTokensRevoked } from '../../schemas/generated/events.ts';
import type { Component } from '../../platform/service.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { RevokedTokens } from './revocation.ts';

/**
 * Keeps a RevokedTokens up to date from live.user.revocations, in every process that verifies the
 * API's tokens or tickets (API, chat and push gateways). The group is the instance's own: every
 * instance needs every revocation. `start` resolves once the (compacted, so small) topic is read
 * to its end, so an instance never accepts a token that was revoked before it started.
 * `onRevoked` hears each revocation that moved a user's cut, e.g. to close that user's sockets.
 */
export interface RevocationProjectionOptions {
  groupId: string;
  catchUpDeadlineMs: number;
  onFatal?: (err: Error) => void;
  onRevoked?: (event: UserTokensRevoked) => void;
}

export class RevocationProjection implements Component {
  readonly name = 'token-revocations';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly revoked: RevokedTokens,
    private readonly opts: RevocationProjectionOptions,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['userRevocations']);
    const topic = this.bus.topic('userRevocations');
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(topic, async (records) => {
        for (const r of records) if (this.revoked.apply(r.event)) this.opts.onRevoked?.(r.event);
      });
    await this.consumer.start();
    await waitForGroupToReachEnd(this.bus, this.opts.groupId, [topic.name], {
      deadlineMs: this.opts.catchUpDeadlineMs,
    });
  }

  /** The group is this instance's alone: once stopped, nothing will resume it, so it is deleted. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    await deleteConsumerGroup(this.bus, this.opts.groupId, this.bus.log);
  }
}
