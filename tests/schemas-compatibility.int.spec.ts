import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IncompatibleSchemaError, SchemaRegistryClient } from '../platform/kafka/registry.ts';
import { endpoints } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { frozenVersions } from '../schemas/freeze.ts';
import { expand, loadNamedSchemas } from '../schemas/load.ts';
import { TOPICS, subjectOf } from '../schemas/topics.ts';

const named = loadNamedSchemas();
const registry = (): SchemaRegistryClient => new SchemaRegistryClient(endpoints().registryUrl);

describe('schema evolution guard (real registry, BACKWARD_TRANSITIVE)', () => {
  it('every schema in the repo is compatible with what the registry holds for its topic, and registers', async () => {
    const r = registry();
    for (const spec of Object.values(TOPICS)) {
      const subject = subjectOf(spec.base);
      const current = expand(spec.valueRecord, named);
      if ((await r.subjectVersions(subject)).length) {
        const verdict = await r.isCompatible(subject, current);
        assert.ok(verdict.compatible, `${subject}: ${verdict.messages.join('; ')}`);
      }
      await r.register(subject, current);
    }
  });

  it('every frozen version, registered in order, is readable by the current schema', async () => {
    const r = registry();
    const prefix = uniqueName('frozen');
    for (const spec of Object.values(TOPICS)) {
      const subject = `${prefix}.${subjectOf(spec.base)}`;
      for (const { schema } of frozenVersions(spec.base)) await r.register(subject, schema);
      const verdict = await r.isCompatible(subject, expand(spec.valueRecord, named));
      assert.ok(verdict.compatible, `${subject}: ${verdict.messages.join('; ')}`);
    }
  });

  describe('on a scratch subject', () => {
    const v1 = {
      type: 'record',
      name: 'Probe',
      namespace: 'live.test',
      fields: [{ name: 'streamId', type: 'string' }],
    };
    const withDefault = { ...v1, fields: [...v1.fields, { name: 'title', type: 'string', default: '' }] };
    const withoutDefault = { ...v1, fields: [...v1.fields, { name: 'viewers', type: 'int' }] };

    it('accepts a field added with a default', async () => {
      const r = registry();
      const subject = `${uniqueName('compat')}-value`;
      const id1 = await r.register(subject, v1);
      const id2 = await r.register(subject, withDefault);
      assert.notEqual(id1, id2);
      assert.deepEqual(await r.subjectVersions(subject), [1, 2]);
    });

    it('refuses a field added without a default (409), and says so before trying', async () => {
      const r = registry();
      const subject = `${uniqueName('compat')}-value`;
      await r.register(subject, v1);
      assert.equal((await r.isCompatible(subject, withoutDefault)).compatible, false);
      await assert.rejects(r.register(subject, withoutDefault), IncompatibleSchemaError);
      assert.deepEqual(await r.subjectVersions(subject), [1]);
    });

    it('is transitive: refuses a version that reads the latest but not the first', async () => {
      const r = registry();
      const subject = `${uniqueName('compat')}-value`;
      await r.register(subject, v1);
      await r.register(subject, withDefault);
      // Reads v2 (title present there) but not v1, which has no title and no default to fill it.
      const v3 = { ...v1, fields: [...v1.fields, { name: 'title', type: 'string' }] };
      await assert.rejects(r.register(subject, v3), IncompatibleSchemaError);
    });
  });
});
