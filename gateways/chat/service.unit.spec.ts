import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatEvent } from '../../schemas/generated/events.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { TransientError } from '../../platform/errors.ts';
import { TimeUuidGenerator } from '../../platform/timeuuid.ts';
import type { ModerationEffect } from '../../domain/chat/moderation.ts';
import type { ArchivedMessage } from '../../domain/chat/history.ts';
import type { ChatErrorCode } from './errors.ts';
import { ChatMetrics } from './metrics.ts';
import { ChatService, type ChatArchive, type ChatConnection } from './service.ts';

/** The service with in-memory fakes for the topic, the archive and the sockets. */
const T0 = Date.UTC(2026, 1, 2, 10);

class FakeConnection implements ChatConnection {
  static next = 1;
  readonly id = FakeConnection.next++;
  readonly frames: Array<Record<string, unknown>> = [];
  closedWith: ChatErrorCode | undefined;
  constructor(
    readonly streamId: string,
    readonly user: { userId: string; username: string } | undefined,
  ) {}
  send(frame: string): void {
    this.frames.push(JSON.parse(frame) as Record<string, unknown>);
  }
  close(code: ChatErrorCode): void {
    this.closedWith = code;
  }
  last(): Record<string, unknown> {
    return this.frames.at(-1)!;
  }
}

function setup(archive: Partial<ChatArchive> = {}, opts: { failPublish?: () => boolean } = {}) {
  let now = T0;
  const published: ChatEvent[] = [];
  const broadcasts: Array<{ streamId: string; frame: Record<string, unknown> }> = [];
  const connections: FakeConnection[] = [];
  const service = new ChatService(
    {
      streams: { get: (id) => (id === 's1' ? { streamId: 's1', streamerId: 'owner', chatEnabled: true } : undefined) },
      archive: {
        before: async () => [],
        after: async () => ({ messages: [], complete: true }),
        moderation: async () => [],
        ...archive,
      },
      publish: async (e) => {
        if (opts.failPublish?.()) throw new Error('broker down');
        published.push(e);
      },
      broadcast: (streamId, frame) => {
        const f = JSON.parse(frame) as Record<string, unknown>;
        broadcasts.push({ streamId, frame: f });
        for (const c of connections) if (c.streamId === streamId) c.frames.push(f);
      },
      ids: new TimeUuidGenerator(),
      clock: () => now,
      log: createLogger('test', 'silent'),
      metrics: new ChatMetrics(new Metrics('test', { defaults: false })),
    },
    {
      historyOnJoin: 3,
      recentPerStream: 10,
      resumeMax: 5,
      pageMax: 100,
      retentionMs: 30 * 86_400_000,
      roomIdleMs: 60_000,
      storeWaitMs: 50,
      commandWaitMs: 100,
      limits: { maxMessages: 2, windowMs: 30_000, duplicateWindowMs: 30_000 },
      flood: { frames: 5, windowMs: 10_000 },
    },
  );
  const connect = async (user?: string, since?: string): Promise<FakeConnection> => {
    const identity = user ? { userId: user, username: user.toUpperCase() } : undefined;
    const admission = await service.admit('s1', identity, since);
    const c = new FakeConnection('s1', identity);
    connections.push(c);
    service.join(c, admission);
    return c;
  };
  /** What the topic does: every published event comes back, in order, to apply. */
  const deliver = (): void => {
    for (const e of published.splice(0)) service.apply(e);
  };
  return { service, published, broadcasts, connect, deliver, tick: (ms: number) => (now += ms) };
}

const line = (id: string, sentAt: number): ArchivedMessage => ({
  messageId: id,
  userId: 'x',
  username: 'X',
  badges: [],
  content: id,
  color: null,
  sentAt,
});

describe('chat service', () => {
  const send = (content: string) => JSON.stringify({ type: 'message', content, nonce: content });

  it('a send is published and acked; viewers see it only when it comes back from the topic', async () => {
    const { service, connect, published, deliver } = setup();
    const viewer = await connect();
    const alice = await connect('alice');
    await service.receive(alice, send('hello'));
    assert.equal(published.length, 1);
    assert.deepEqual(alice.last(), {
      type: 'ack',
      nonce: 'hello',
      message_id: (published[0]!.payload as { messageId: string }).messageId,
    });
    assert.deepEqual(
      viewer.frames.map((f) => f.type),
      ['history'],
      'nothing shown before the topic has it',
    );
    deliver();
    assert.equal(viewer.last().content, 'hello');
    assert.equal(alice.last().content, 'hello', 'the sender too');
  });

  it('anonymous viewers are told to sign in; nothing is published', async () => {
    const { service, connect, published } = setup();
    const anon = await connect();
    await service.receive(anon, send('hi'));
    assert.equal(anon.last().code, 'unauthorized');
    assert.equal(published.length, 0);
  });

  it('a failed publish is an error frame and gives the rate-limit slot back', async () => {
    let fail = true;
    const { service, connect, published } = setup({}, { failPublish: () => fail });
    const alice = await connect('alice');
    await service.receive(alice, send('one'));
    assert.equal(alice.last().code, 'unavailable');
    fail = false;
    await service.receive(alice, send('one'));
    await service.receive(alice, send('two'));
    assert.equal(published.length, 2, 'the failed send took no slot and is not a duplicate');
    await service.receive(alice, send('three'));
    assert.equal(alice.last().code, 'rate_limited');
  });

  it('sends are refused while the moderation state cannot be loaded, and work once it can', async () => {
    let down = true;
    const { service, connect, published } = setup({
      moderation: async (): Promise<ModerationEffect[]> => {
        if (down) throw new TransientError('cassandra down');
        return [{ streamId: 's1', userId: 'alice', column: 'banned', value: true, at: 1 }];
      },
    });
    const alice = await connect('alice');
    await service.receive(alice, send('hi'));
    assert.equal(alice.last().code, 'unavailable', 'a banned user must not slip through while bans are unknown');
    down = false;
    await service.receive(alice, send('hi'));
    assert.equal(alice.last().code, 'banned');
    assert.equal(published.length, 0);
  });

  it('a command is refused as unavailable, not left unanswered, while the moderation state will not load', async () => {
    let answer: (effects: ModerationEffect[]) => void = () => undefined;
    const { service, connect, published } = setup({
      moderation: () => new Promise<ModerationEffect[]>((resolve) => (answer = resolve)),
    });
    const alice = await connect('alice');
    await service.receive(alice, send('anyone there?'));
    assert.equal(alice.last().code, 'unavailable');
    answer([]);
    await service.receive(alice, send('anyone there?'));
    assert.equal(alice.last().type, 'ack', 'the load that was slow is used once it arrives');
    assert.equal(published.length, 1);
  });

  it('a join does not wait long on a slow archive: it answers from what the instance holds', async () => {
    const { connect, service } = setup({ before: () => new Promise<ArchivedMessage[]>(() => undefined) });
    const owner = await connect('owner');
    await service.receive(owner, send('held here'));
    const started = Date.now();
    const late = await connect();
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(late.frames[0], { type: 'history', messages: [], complete: true });
  });

  it('on join: the newest archived messages, then what the topic brought, the last N of them', async () => {
    const archived = [line('a1', T0 - 3000), line('a2', T0 - 2000)];
    const { connect, service, deliver } = setup({ before: async () => archived });
    const owner = await connect('owner');
    await service.receive(owner, send('live 1'));
    await service.receive(owner, send('live 2'));
    deliver();
    const viewer = await connect();
    assert.deepEqual(
      (viewer.frames[0]!.messages as Array<{ content: string }>).map((m) => m.content),
      ['a2', 'live 1', 'live 2'],
    );
  });

  it('resume with since: exactly what followed it, from the instance when it holds it, else from the archive', async () => {
    const gen = new TimeUuidGenerator();
    const old = gen.next(T0 - 60_000);
    const missed = [line(gen.next(T0 - 50_000), T0 - 50_000), line(gen.next(T0 - 40_000), T0 - 40_000)];
    const { connect, service, deliver } = setup({ after: async () => ({ messages: missed, complete: true }) });
    const owner = await connect('owner');
    await service.receive(owner, send('m1'));
    deliver();
    const [m1] = owner.frames.filter((f) => f.type === 'message');
    await service.receive(owner, send('m2'));
    deliver();

    const held = await connect(undefined, m1!.message_id as string);
    assert.deepEqual(held.frames[0], {
      type: 'history',
      messages: [owner.frames.filter((f) => f.type === 'message')[1]],
      complete: true,
    });

    const fromArchive = await connect(undefined, old);
    const h = fromArchive.frames[0] as { messages: Array<{ content: string }>; complete: boolean };
    assert.deepEqual(
      h.messages.map((m) => m.content),
      [missed[0]!.content, missed[1]!.content, 'm1', 'm2'],
    );
    assert.equal(h.complete, true);
  });

  it('a deleted message leaves the instance history; moderation events reach viewers', async () => {
    const { connect, service, deliver } = setup();
    const owner = await connect('owner');
    await service.receive(owner, send('oops'));
    deliver();
    const id = owner.frames.find((f) => f.type === 'message')!.message_id;
    await service.receive(owner, JSON.stringify({ type: 'delete', message_id: id }));
    deliver();
    assert.deepEqual(owner.last(), { type: 'message_deleted', message_id: id });
    const viewer = await connect();
    assert.deepEqual(viewer.frames[0]!.messages, []);
  });

  it('too many frames close the connection with the flood code', async () => {
    const { connect, service } = setup();
    const anon = await connect();
    for (let i = 0; i < 6; i++) await service.receive(anon, '{"type":"x"}');
    assert.equal(anon.closedWith, 'flood');
  });

  it('joins and pages refuse unknown streams and malformed ids', async () => {
    const { service } = setup();
    await assert.rejects(service.admit('nope', undefined, undefined), { code: 'stream_not_found' });
    await assert.rejects(service.admit('s1', undefined, 'msg_1'), { code: 'invalid_request' });
    await assert.rejects(service.page('s1', 'msg_1', 10), { code: 'invalid_request' });
    await assert.rejects(service.page('s1', undefined, 1000), { code: 'invalid_request' });
  });
});
