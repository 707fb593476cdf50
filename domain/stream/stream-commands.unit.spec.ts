import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../platform/logger.ts';
import { StreamRegistry } from './registry.ts';
import { StreamError } from './errors.ts';
import { StreamCommands } from './stream-commands.ts';
import type { StartInput } from './validation.ts';

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
    assert.equal(registry.streamsOf(alice.userId).length, 3);
  });
});
