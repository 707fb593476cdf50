import type { estypes } from '@elastic/elasticsearch';
import { randomBytes } from 'node:crypto';
import { errorType, esCall, type Elasticsearch } from './client.ts';

/**
 * Index lifecycle for derived state behind an alias. Readers and the live writer only ever name
 * the alias; a rebuild fills a fresh concrete index and moves the alias in one atomic
 * `_aliases` call, so no reader ever sees a half-built index.
 *
 * Concrete names: `<alias>-v1` for the first generation (a fixed name, so instances starting at
 * once race safely on "already exists"), `<alias>-r<time>-<rand>` for rebuilds.
 */
export interface IndexDefinition {
  settings: estypes.IndicesIndexSettings;
  mappings: estypes.MappingTypeMapping;
}

/** The concrete indices the alias points at (normally one). */
export async function indicesOf(es: Elasticsearch, alias: string): Promise<string[]> {
  const exists = await esCall('alias exists', () => es.indices.existsAlias({ name: alias }));
  if (!exists) return [];
  const res = await esCall('get alias', () => es.indices.getAlias({ name: alias }));
  return Object.keys(res).sort();
}

/**
 * The one concrete index `target` (an alias or an index) names now, and whether an alias points at
 * it; undefined when it names none or several.
 */
export async function resolveIndex(
  es: Elasticsearch,
  target: string,
): Promise<{ index: string; aliased: boolean } | undefined> {
  const res = await esCall('get alias', () => es.indices.getAlias({ index: target }));
  const [index, ...more] = Object.keys(res);
  if (!index || more.length) return undefined;
  return { index, aliased: Object.keys(res[index]?.aliases ?? {}).length > 0 };
}

/**
 * Whether no document was ever written to `index`: no documents, and no index or delete operation
 * since its primary started (a restarted node counts from zero again, but then its documents,
 * recovered and refreshed, are counted).
 */
export async function neverWritten(es: Elasticsearch, index: string): Promise<boolean> {
  const res = await esCall('index stats', () => es.indices.stats({ index, metric: ['docs', 'indexing'] }));
  const p = res.indices?.[index]?.primaries;
  return p?.docs?.count === 0 && p.indexing?.index_total === 0 && p.indexing.delete_total === 0;
}

/** Creates the first generation with the alias on it, unless the alias exists. Safe to race. */
export async function ensureAliasedIndex(es: Elasticsearch, alias: string, def: IndexDefinition): Promise<string> {
  const current = await indicesOf(es, alias);
  if (current.length) return current[0]!;
  const index = `${alias}-v1`;
  try {
    await esCall('create index', () =>
      es.indices.create({ index, ...def, aliases: { [alias]: { is_write_index: true } } }),
    );
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  return index;
}

/** A new, empty, unaliased index for a rebuild. */
export async function createFreshIndex(es: Elasticsearch, alias: string, def: IndexDefinition): Promise<string> {
  const index = `${alias}-r${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await esCall('create index', () => es.indices.create({ index, ...def }));
  return index;
}

/** Points the alias at `index` alone, atomically; returns the indices it pointed at before. */
export async function swapAlias(es: Elasticsearch, alias: string, index: string): Promise<string[]> {
  const previous = (await indicesOf(es, alias)).filter((i) => i !== index);
  await esCall('swap alias', () =>
    es.indices.updateAliases({
      actions: [
        ...previous.map((i) => ({ remove: { index: i, alias } })),
        { add: { index, alias, is_write_index: true } },
      ],
    }),
  );
  return previous;
}

export async function deleteIndices(es: Elasticsearch, indices: string[]): Promise<void> {
  if (indices.length)
    await esCall('delete index', () => es.indices.delete({ index: indices, ignore_unavailable: true }));
}

const isAlreadyExists = (err: unknown): boolean => errorType(err) === 'resource_already_exists_exception';

/** Every document of an index by id (scrolled), for comparing a rebuild with the live index. */
export async function dumpIndex(es: Elasticsearch, index: string): Promise<Map<string, unknown>> {
  const docs = new Map<string, unknown>();
  const scroll = es.helpers.scrollSearch<unknown>({ index, size: 5000, sort: ['_doc'], query: { match_all: {} } });
  for await (const page of scroll) {
    for (const hit of page.body.hits.hits) docs.set(hit._id!, hit._source);
  }
  return docs;
}
