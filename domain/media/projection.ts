import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import { deleteConsumerGroup } from '../../platform/kafka/groups.ts';
import type { Component } from '../../platform/service.ts';
import type { MediaCatalog } from './catalog.ts';

/**
 * Keeps a MediaCatalog up to date from live.media.segments, live.vod.recordings and
 * live.vod.deletions. The group is
 * unique to the process instance (every instance needs every partition). Unlike the stream
 * registry, start does not wait to catch up: the media topic is long (every segment of three
 * days), and until it is read a playback answer only lacks its qualities and thumbnail.
 */
export class MediaCatalogProjection implements Component {
  readonly name = 'media-catalog';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly catalog: MediaCatalog,
    private readonly opts: { groupId: string; onFatal?: (err: Error) => void },
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['mediaSegments', 'vodRecordings', 'vodDeletions']);
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        maxBatch: 5000,
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(this.bus.topic('mediaSegments'), async (records) => {
        for (const r of records) this.catalog.applyMedia(r.event, Number(r.version));
      })
      .on(this.bus.topic('vodRecordings'), async (records) => {
        for (const r of records) this.catalog.applyVod(r.event, Number(r.version));
      })
      .on(this.bus.topic('vodDeletions'), async (records) => {
        for (const r of records) this.catalog.applyVodDeleted(r.event, Number(r.version));
      });
    await this.consumer.start();
  }

  /** The group is this instance's alone: once stopped, nothing will resume it, so it is deleted. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    await deleteConsumerGroup(this.bus, this.opts.groupId, this.bus.log);
  }
}
