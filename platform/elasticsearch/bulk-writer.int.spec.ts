import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { endpoints } from '../../tests/support/endpoints.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { createElasticsearch, type Elasticsearch } from './client.ts';
import { PoisonRecordError, TransientError } from '../errors.ts';
import { writeVersioned } from './bulk-writer.ts';
import { deleteIndices, ensureAliasedIndex } from './indices.ts';

describe('versioned bulk writes against real Elasticsearch', () => {
  let es: Elasticsearch;
  let alias: string;
  let index: string;
  const def = {
    settings: { number_of_shards: 1, number_of_replicas: 0 },
    mappings: { dynamic: 'strict' as const, properties: { v: { type: 'keyword' as const } } },
  };

  before(async () => {
    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    alias = uniqueName('bulk');
    index = await ensureAliasedIndex(es, alias, def);
  });
  after(async () => {
    await deleteIndices(es, [index]);
    await es.close();
  });

  const get = async (id: string) => {
    const d = await es.get<{ v: string }>({ index: alias, id });
    return { version: d._version, v: d._source?.v };
  };

  it('writes newer versions, reports older and equal ones as conflicts, and keeps the newest', async () => {
    const first = await writeVersioned(es, alias, [{ id: 'a', version: 5, doc: { v: 'five' } }], {
      requireAlias: true,
    });
    assert.deepEqual(first, { written: ['a'], conflicts: [] });
    const again = await writeVersioned(
      es,
      alias,
      [
        { id: 'a', version: 5, doc: { v: 'five again' } },
        { id: 'a', version: 3, doc: { v: 'three' } },
        { id: 'b', version: 1, doc: { v: 'one' } },
      ],
      { requireAlias: true },
    );
    assert.deepEqual(again, { written: ['b'], conflicts: ['a', 'a'] });
    assert.deepEqual(await get('a'), { version: 5, v: 'five' });
    await writeVersioned(es, alias, [{ id: 'a', version: 9, doc: { v: 'nine' } }], { requireAlias: true });
    assert.deepEqual(await get('a'), { version: 9, v: 'nine' });
  });

  it('an item Elasticsearch refuses is poison; its neighbours in the same bulk still land', async () => {
    await assert.rejects(
      writeVersioned(
        es,
        alias,
        [
          { id: 'good', version: 1, doc: { v: 'ok' } },
          { id: 'bad', version: 1, doc: { unmapped: 'x' } },
        ],
        { requireAlias: true },
      ),
      (err: unknown) =>
        err instanceof PoisonRecordError && /bad: 400 strict_dynamic_mapping_exception/.test(err.message),
    );
    assert.equal((await get('good')).v, 'ok');
  });

  it('a missing alias is transient (never an auto-created index), and so is an unreachable cluster', async () => {
    const missing = uniqueName('no-alias');
    await assert.rejects(
      writeVersioned(es, missing, [{ id: 'x', version: 1, doc: { v: 'x' } }], { requireAlias: true }),
      TransientError,
    );
    assert.equal(await es.indices.exists({ index: missing }), false);
    const dead = createElasticsearch({ url: 'http://127.0.0.1:1' });
    await assert.rejects(
      writeVersioned(dead, alias, [{ id: 'x', version: 1, doc: { v: 'x' } }], { requireAlias: true }),
      TransientError,
    );
    await dead.close();
  });
});
