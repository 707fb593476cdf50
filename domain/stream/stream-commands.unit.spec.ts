import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../platform/logger.ts';
import { StreamRegistry } from './registry.ts';
import { StreamError } from './errors.ts';
import { StreamCommands } from './stream-commands.ts';
import type { StartInput } from './validation.ts';
import { evolve, type StreamRecord } from './evolve.ts';

const input: StartInput = {
  title: 't',
  category: 'c',
  tags: [],
  latencyMode: 'STANDARD',
  recordingEnabled: true,
  chatEnabled: true,
};
const alice = { userId: 'user_alice', username: 'alice' };

describe('stream commands: how many streams one streamer may hold open', () => {
  it('refuses a start beyond the limit until one of them ends; other streamers are not affected', async () => {
    const registry = new StreamRegistry();
    let offset = 0;
    const commands = new StreamCommands({
      registry,
      // The registry applies what is published, as its projection would from the topic.
      publish: async (events) => {
        for (const e of events) registry.applyLifecycle(e, offset++);
      },
      readYourWritesMs: 1000,
      maxOpenStreams: 2,
      log: createLogger('commands-spec', 'silent'),
    });
    const first = await commands.start(alice, input);
    await commands.start(alice, input);
    await assert.rejects(
      commands.start(alice, input),
      (err: unknown) => err instanceof StreamError && err.code === 'too_many_open_streams',
    );
    await commands.start({ userId: 'user_bob', username: 'bob' }, input);
    await commands.end(alice, first.stream.streamId);
    await commands.start(alice, input);
    assert.equal(registry.openStreamsOf(alice.userId).length, 2);
  });

  it('a command for an ended stream the registry no longer holds is refused as before; only an ended lookup counts', async () => {
    const registry = new StreamRegistry({ endedCacheSize: 0 });
    const held = new Map<string, StreamRecord>();
    let offset = 0;
    const commands = new StreamCommands({
      registry,
      publish: async (events) => {
        for (const e of events) {
          registry.applyLifecycle(e, offset++);
          held.set(e.streamId, evolve(held.get(e.streamId), e)!);
        }
      },
      // What the discovery index would answer: every stream it has seen.
      lookupEnded: async (id) => held.get(id),
      readYourWritesMs: 1000,
      log: createLogger('commands-spec', 'silent'),
    });
    const { stream } = await commands.start(alice, input);
    await commands.end(alice, stream.streamId);
    assert.equal(registry.get(stream.streamId), undefined, 'the ended stream left memory');
    const refused = (code: string) => (err: unknown) => err instanceof StreamError && err.code === code;
    await assert.rejects(commands.update(alice, stream.streamId, { title: 'x' }), refused('stream_ended'));
    await assert.rejects(commands.end(alice, stream.streamId), refused('stream_ended'));
    await assert.rejects(
      commands.end({ userId: 'user_bob', username: 'bob' }, stream.streamId),
      refused('not_stream_owner'),
    );
    // A stream the lookup knows but this registry has not applied yet is unknown here, as before.
    held.set('stream_elsewhere', { ...stream, streamId: 'stream_elsewhere', status: 'ready', endedAt: null });
    await assert.rejects(commands.end(alice, 'stream_elsewhere'), refused('stream_not_found'));
  });
});
