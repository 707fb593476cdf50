import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { AvroMapper } from '../platform/kafka/codec.ts';
import { generate } from '../schemas/codegen.ts';
import { frozenVersions } from '../schemas/freeze.ts';
import { expand, loadNamedSchemas } from '../schemas/load.ts';
import { TOPICS, topicConfig } from '../schemas/topics.ts';
import { REPO_ROOT } from '../platform/paths.ts';

const named = loadNamedSchemas();
const fixtures = (key: string): unknown[] =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'fixtures', `${key}.json`), 'utf8')) as unknown[];

describe('the Avro event catalog', () => {
  it('defines one named type per file and every event listed in the architecture', () => {
    const events = [
      'StreamCreated',
      'StreamUpdated',
      'StreamWentLive',
      'StreamEnded',
      'ChatMessageSent',
      'ViewerHeartbeat',
      'ViewerCountChanged',
      'SegmentReady',
      'RenditionLadder',
      'ThumbnailReady',
      'Followed',
      'Unfollowed',
      'NotificationCreated',
      'VodRecorded',
    ];
    const short = new Set([...named.keys()].map((n) => n.split('.').pop()));
    for (const e of events) assert.ok(short.has(e), `${e} has an .avsc`);
  });

  it('documents every record, enum and field', () => {
    for (const { name, schema } of named.values()) {
      assert.ok(typeof schema.doc === 'string' && schema.doc.length > 10, `${name} has a doc`);
      for (const f of (schema.fields as Array<{ name: string; doc?: string }> | undefined) ?? []) {
        assert.ok(f.doc && f.doc.length > 2, `${name}.${f.name} has a doc`);
      }
    }
  });

  for (const [key, spec] of Object.entries(TOPICS)) {
    describe(spec.base, () => {
      const schema = expand(spec.valueRecord, named);
      const mapper = new AvroMapper<Record<string, unknown>>(schema);

      it('expands to a self-contained schema avsc accepts', () => {
        assert.doesNotThrow(() => avro.Type.forSchema(schema as avro.Schema));
      });

      it('carries eventId (uuid), occurredAt (timestamp-millis) and its key field', () => {
        const fields = schema.fields as Array<{ name: string; type: unknown }>;
        const byName = new Map(fields.map((f) => [f.name, f.type]));
        assert.deepEqual(byName.get('eventId'), { type: 'string', logicalType: 'uuid' });
        assert.deepEqual(byName.get('occurredAt'), { type: 'long', logicalType: 'timestamp-millis' });
        assert.equal(byName.get(spec.key), 'string', `key field ${spec.key}`);
      });

      it('round-trips its fixtures through Avro binary unchanged', () => {
        const events = fixtures(key);
        assert.ok(events.length > 0);
        for (const e of events) {
          const back = mapper.fromBuffer(mapper.toBuffer(e as Record<string, unknown>));
          assert.deepEqual(JSON.parse(JSON.stringify(back)), e);
        }
      });

      it('has a frozen v1 that the current schema can read (schema resolution)', () => {
        const [first] = frozenVersions(spec.base);
        assert.ok(first, 'frozen v1 exists');
        const writer = avro.Type.forSchema(first.schema as avro.Schema, { wrapUnions: 'auto' });
        assert.doesNotThrow(() => mapper.type.createResolver(writer));
      });
    });
  }

  it('names the payload field the invalid event breaks', () => {
    const mapper = new AvroMapper<Record<string, unknown>>(expand(TOPICS.streamLifecycle.valueRecord, named));
    const [created] = fixtures('streamLifecycle') as Array<{ payload: Record<string, unknown> }>;
    const bad = { ...created, payload: { ...created!.payload, title: 42 } };
    assert.throws(() => mapper.toBuffer(bad), /payload\.live\.stream\.StreamCreated\.title/);
    assert.throws(() => mapper.toBuffer({ ...created, payload: { type: 'Nope' } }), /unknown payload type "Nope"/);
  });

  it('reads a reason added after the reader was written as UNKNOWN (enum default)', () => {
    const reader = new AvroMapper<{ payload: { reason: string } }>(expand(TOPICS.streamLifecycle.valueRecord, named));
    const newer = JSON.parse(JSON.stringify(expand(TOPICS.streamLifecycle.valueRecord, named))) as {
      fields: Array<{
        name: string;
        type: Array<{ name: string; fields: Array<{ name: string; type: { symbols: string[] } }> }>;
      }>;
    };
    const ended = newer.fields.find((f) => f.name === 'payload')!.type.find((t) => t.name === 'StreamEnded')!;
    ended.fields[0]!.type.symbols.push('COPYRIGHT_STRIKE');
    const writer = new AvroMapper<Record<string, unknown>>(newer as unknown as Record<string, unknown>);
    const [, , , endedEvent] = fixtures('streamLifecycle') as Array<Record<string, unknown>>;
    const bytes = writer.toBuffer({
      ...endedEvent,
      payload: { type: 'StreamEnded', reason: 'COPYRIGHT_STRIKE', endedBy: null },
    });
    const read = reader.fromBuffer(bytes, reader.type.createResolver(writer.type));
    assert.equal(read.payload.reason, 'UNKNOWN');
  });

  it('keeps the generated TypeScript types in step with the .avsc files', () => {
    const current = readFileSync(join(REPO_ROOT, 'schemas', 'generated', 'events.ts'), 'utf8');
    assert.equal(current, generate(), 'run `npm run gen:types`');
  });

  it('maps retention to topic configs', () => {
    assert.deepEqual(topicConfig('forever'), { 'cleanup.policy': 'delete', 'retention.ms': '-1' });
    assert.equal(topicConfig('compact')['cleanup.policy'], 'compact');
    assert.equal(topicConfig(1000)['retention.ms'], '1000');
  });
});
