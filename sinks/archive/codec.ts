import type avro from 'avsc';
import { PoisonRecordError } from '../../platform/errors.ts';
import { EventCodec, NEEDS_WRITER_SCHEMA } from '../../platform/kafka/codec.ts';
import type { SchemaRegistryClient } from '../../platform/kafka/registry.ts';
import { unframe } from '../../platform/kafka/wire.ts';
import { archiveType, columnsOf, type Column } from '../../domain/archive/columns.ts';

/** One writer schema, parsed for the archive: how its values decode and which columns they fill. */
export interface SchemaPlan {
  id: number;
  type: avro.Type;
  columns: Column[];
}

/** A record's value as the archive keeps it: decoded with the schema it was written with. */
export interface ArchivedValue {
  plan: SchemaPlan;
  value: unknown;
}

/**
 * The consumer runner's codec for the archive (it only decodes): each value is decoded with its
 * own writer schema (the id in its wire-format header), not resolved into this process's schema,
 * so the archive keeps every field a producer wrote, a field newer than this process included.
 * Unknown ids and bodies that do not decode are PoisonRecordErrors: the runner dead-letters them.
 */
export class ArchiveCodec extends EventCodec<ArchivedValue> {
  private readonly plans = new Map<number, SchemaPlan>();

  constructor(
    subject: string,
    schema: Record<string, unknown>,
    private readonly schemas: SchemaRegistryClient,
  ) {
    super(subject, schema, schemas);
  }

  override decodeSync(buf: Buffer | null): ArchivedValue | typeof NEEDS_WRITER_SCHEMA {
    const { schemaId, body } = unframe(buf);
    const plan = this.plans.get(schemaId);
    if (!plan) return NEEDS_WRITER_SCHEMA;
    let decoded: { value: unknown; offset: number };
    try {
      decoded = plan.type.decode(body, 0) as { value: unknown; offset: number };
    } catch (err) {
      throw undecodable(schemaId, (err as Error).message, err);
    }
    if (decoded.offset !== body.length)
      throw undecodable(schemaId, decoded.offset < 0 ? 'truncated buffer' : 'trailing data');
    return { plan, value: decoded.value };
  }

  override async decode(buf: Buffer | null): Promise<ArchivedValue> {
    const first = this.decodeSync(buf);
    if (first !== NEEDS_WRITER_SCHEMA) return first;
    const { schemaId } = unframe(buf);
    const schema = await this.schemas.schemaById(schemaId);
    let type: avro.Type;
    try {
      type = archiveType(schema);
    } catch (err) {
      throw undecodable(schemaId, `schema does not parse: ${(err as Error).message}`, err);
    }
    this.plans.set(schemaId, { id: schemaId, type, columns: columnsOf(type) });
    return this.decodeSync(buf) as ArchivedValue;
  }
}

const undecodable = (schemaId: number, why: string, cause?: unknown): PoisonRecordError =>
  new PoisonRecordError(`Avro body does not decode with schema ${schemaId}: ${why}`, 'undecodable', { cause });
