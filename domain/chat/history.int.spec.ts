import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { endpoints } from '../../tests/support/endpoints.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { Cassandra, type Statement } from '../../platform/cassandra.ts';
import { mapLimit } from '../../platform/concurrency.ts';
import { ChatHistoryReader } from './history.ts';
import { ModerationState, type ModerationEffect } from './moderation.ts';
import { ensureChatSchema } from './schema.ts';

/**
 * The archive's moderation read against a real Cassandra. A stream's moderation cells are one
 * partition, so a read that stops after one page (the driver's default is 5,000 rows) loses every
 * ban past it, and a moderator who bans thousands of throwaway accounts can push real bans off
 * it: after a gateway restart those users could chat again.
 */
describe('chat archive reads: moderation state in full (real Cassandra)', () => {
  let db: Cassandra;
  const ks = uniqueName('chathist');
  const STREAM = 's-crowded';
  const DECOYS = 6000;
  const at = Date.now() * 1000;
  const timeoutUntil = Date.now() + 3_600_000;

  const decoy = (i: number): string => `a-${String(i).padStart(5, '0')}`;
  const cell = (column: string, value: unknown, userId: string, micros = at): Statement => ({
    query: `UPDATE ${ks}.chat_moderation USING TIMESTAMP ? SET ${column} = ? WHERE stream_id = ? AND user_id = ?`,
    params: [micros, value, STREAM, userId],
  });

  before(async () => {
    db = new Cassandra({
      CASSANDRA_CONTACT_POINTS: endpoints().cassandraContactPoints,
      CASSANDRA_LOCAL_DC: 'datacenter1',
      CASSANDRA_REQUEST_TIMEOUT_MS: 10_000,
    });
    await db.connect();
    await ensureChatSchema(db, ks, { replicationFactor: 1, localDc: 'datacenter1', ttlSeconds: 86_400 });
    // A rogue moderator's flood: bans of throwaway accounts whose ids sort before the real ones.
    const decoys = Array.from({ length: DECOYS }, (_, i) => cell('banned', true, decoy(i)));
    const batches = Array.from({ length: Math.ceil(DECOYS / 200) }, (_, i) => decoys.slice(i * 200, (i + 1) * 200));
    await mapLimit(batches, 4, (b) => db.unloggedBatch('seed decoys', b, { idempotent: true }));
    // The real state, all past the first 5,000 rows.
    await db.unloggedBatch(
      'seed real',
      [
        cell('banned', true, 'zz-banned'),
        cell('timeout_until', new Date(timeoutUntil), 'zz-timed-out'),
        cell('moderator', true, 'zz-moderator'),
        cell('banned', true, 'zz-unbanned', at - 1000),
        cell('banned', false, 'zz-unbanned'),
      ],
      { idempotent: true },
    );
  });

  after(async () => {
    await db.ddl(`DROP KEYSPACE IF EXISTS ${ks}`);
    await db.shutdown();
  });

  const stateOf = (effects: ModerationEffect[]): ModerationState => {
    const state = new ModerationState();
    for (const fx of effects) state.apply(fx);
    return state;
  };

  it('reads every cell past the driver page: bans, timeouts and moderators beyond 5,000 rows still apply', async () => {
    const effects = await new ChatHistoryReader(db, ks).moderation(STREAM);
    assert.equal(new Set(effects.map((e) => e.userId)).size, DECOYS + 4, 'every user with a cell');
    const state = stateOf(effects);
    assert.ok(state.isBanned('zz-banned'), 'the real ban survives the flood');
    assert.equal(state.timeoutUntil('zz-timed-out'), timeoutUntil);
    assert.ok(state.isModerator('zz-moderator'));
    assert.equal(state.isBanned('zz-unbanned'), false);
    assert.ok(state.isBanned(decoy(0)) && state.isBanned(decoy(DECOYS - 1)));
    assert.deepEqual(
      effects.find((e) => e.userId === 'zz-banned'),
      { streamId: STREAM, userId: 'zz-banned', column: 'banned', value: true, at },
      'stamped with its write time',
    );
  });

  it('pages of any size give the same cells: a short last page, a full last page, small pages', async () => {
    const whole = await new ChatHistoryReader(db, ks).moderation(STREAM);
    const users = DECOYS + 4;
    for (const pageRows of [1000, users / 4, 97]) {
      const paged = await new ChatHistoryReader(db, ks, { moderationPageRows: pageRows }).moderation(STREAM);
      assert.deepEqual(paged, whole, `pages of ${pageRows}`);
    }
    assert.deepEqual(await new ChatHistoryReader(db, ks).moderation('s-nobody'), [], 'a stream with no cells');
  });
});
