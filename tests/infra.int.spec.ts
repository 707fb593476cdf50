import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Client as Elasticsearch } from '@elastic/elasticsearch';
import cassandra from 'cassandra-driver';
import { endpoints } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';

/** The stores are real: a CQL round trip and an index-and-search, as the platform will use them. */
describe('Cassandra (real server)', () => {
  const e = endpoints();
  const client = new cassandra.Client({ contactPoints: e.cassandraContactPoints, localDataCenter: 'datacenter1' });
  const ks = uniqueName('cql');
  after(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
    await client.shutdown();
  });

  it('round-trips rows, an unlogged batch within one partition, and a TWCS table with a TTL', async () => {
    await client.execute(
      `CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(
      `CREATE TABLE ${ks}.chat (stream_id text, bucket int, message_id timeuuid, content text,
         PRIMARY KEY ((stream_id, bucket), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)
         AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}
         AND default_time_to_live = 2592000`,
    );
    const ids = [0, 1, 2].map(() => cassandra.types.TimeUuid.now());
    await client.batch(
      ids.map((id, i) => ({
        query: `INSERT INTO ${ks}.chat (stream_id, bucket, message_id, content) VALUES (?, ?, ?, ?)`,
        params: ['s1', 1, id, `hello ${i}`],
      })),
      { prepare: true, logged: false, isIdempotent: true },
    );
    const rs = await client.execute(
      `SELECT content, TTL(content) AS ttl FROM ${ks}.chat WHERE stream_id = ? AND bucket = ?`,
      ['s1', 1],
      {
        prepare: true,
      },
    );
    assert.deepEqual(
      rs.rows.map((r) => r.content as string),
      ['hello 2', 'hello 1', 'hello 0'],
      'newest first',
    );
    assert.ok((rs.rows[0]!.ttl as number) > 2_500_000, 'default TTL applied');
  });
});

describe('Elasticsearch (real server)', () => {
  const es = new Elasticsearch({ node: endpoints().elasticsearchUrl });
  const index = uniqueName('es');
  after(async () => {
    await es.indices.delete({ index, ignore_unavailable: true });
    await es.close();
  });

  it('creates an index, indexes with external versions, and finds a document by fuzzy text', async () => {
    await es.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { properties: { title: { type: 'text' }, category: { type: 'keyword' } } },
    });
    await es.index({
      index,
      id: 's1',
      version: 5,
      version_type: 'external',
      document: { title: 'Dark Souls first playthrough', category: 'Gaming' },
    });
    await assert.rejects(
      es.index({
        index,
        id: 's1',
        version: 4,
        version_type: 'external',
        document: { title: 'stale', category: 'Gaming' },
      }),
      /version_conflict/,
    );
    await es.indices.refresh({ index });
    const res = await es.search<{ title: string }>({
      index,
      query: {
        bool: {
          must: { match: { title: { query: 'dark sols', fuzziness: 'AUTO' } } },
          filter: { term: { category: 'Gaming' } },
        },
      },
    });
    assert.equal(res.hits.hits[0]?._source?.title, 'Dark Souls first playthrough');
  });
});
