import avro from 'avsc';
import { PoisonRecordError } from '../errors.ts';
import { avroOptions, type SchemaRegistryClient } from './registry.ts';
import { frame, unframe } from './wire.ts';

/**
 * The pure half of a codec: the Avro type of a topic's values and the mapping between Avro's
 * union branches and our `type`-tagged payloads. No registry, no I/O.
 */
export class AvroMapper<T> {
  readonly type: avro.Type;
  private readonly payload: { wrapped: boolean; fullName: Map<string, string> } | undefined;

  constructor(readonly schema: Record<string, unknown>) {
    this.type = avro.Type.forSchema(schema as avro.Schema, avroOptions());
    const field = (this.type as avro.types.RecordType).field('payload');
    const union = field?.type as (avro.types.WrappedUnionType | avro.types.UnwrappedUnionType) | undefined;
    if (union && union.typeName.startsWith('union')) {
      const names = new Map<string, string>();
      for (const t of union.types) if (t.name) names.set(t.name.split('.').pop() ?? t.name, t.name);
      this.payload = { wrapped: union.typeName === 'union:wrapped', fullName: names };
    } else if (field?.type.typeName === 'record' && field.type.name) {
      // A one-branch union is unwrapped by avsc; still tag it so types stay uniform.
      const name = field.type.name;
      this.payload = { wrapped: false, fullName: new Map([[name.split('.').pop() ?? name, name]]) };
    }
  }

  toAvro(event: T): unknown {
    if (!this.payload) return event;
    const { payload, ...rest } = event as { payload: { type: string } & Record<string, unknown> };
    if (!payload || typeof payload.type !== 'string') return event;
    const { type, ...fields } = payload;
    const full = this.payload.fullName.get(type);
    if (!full) throw new Error(`unknown payload type "${type}"`);
    return { ...rest, payload: this.payload.wrapped ? { [full]: fields } : fields };
  }

  fromAvro(value: unknown): T {
    if (!this.payload) return value as T;
    const v = value as { payload: Record<string, unknown> };
    if (this.payload.wrapped) {
      const [full, fields] = Object.entries(v.payload)[0] ?? [];
      if (!full) throw new PoisonRecordError('empty payload union', 'undecodable');
      return { ...v, payload: { type: full.split('.').pop(), ...(fields as object) } } as T;
    }
    const [short] = this.payload.fullName.keys();
    return { ...v, payload: { type: short, ...v.payload } } as T;
  }

  /** Avro binary of an event (no framing); the error names the invalid field paths. */
  toBuffer(event: T): Buffer {
    const value = this.toAvro(event);
    try {
      return this.type.toBuffer(value);
    } catch (err) {
      const paths: string[] = [];
      this.type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
      throw new Error(`invalid at ${paths.join(', ') || (err as Error).message}`, { cause: err });
    }
  }

  fromBuffer(body: Buffer, resolver?: avro.Resolver): T {
    return this.fromAvro(this.type.fromBuffer(body, resolver));
  }
}

/**
 * Encodes and decodes one topic's values. Encoding always uses this process's schema (registered
 * once at start); decoding resolves whatever writer schema a record names into this process's
 * reader schema, so old records and records from newer producers both read correctly.
 */
export class EventCodec<T> {
  readonly mapper: AvroMapper<T>;
  private schemaId: number | undefined;
  private readonly resolvers = new Map<number, avro.Resolver | undefined>();

  constructor(
    readonly subject: string,
    readonly schema: Record<string, unknown>,
    private readonly registry: SchemaRegistryClient,
  ) {
    this.mapper = new AvroMapper<T>(schema);
  }

  get id(): number {
    if (this.schemaId === undefined) throw new Error(`codec for ${this.subject} used before register()`);
    return this.schemaId;
  }

  async register(): Promise<number> {
    this.schemaId = await this.registry.register(this.subject, this.schema);
    this.resolvers.set(this.schemaId, undefined);
    return this.schemaId;
  }

  encode(event: T): Buffer {
    try {
      return frame(this.id, this.mapper.toBuffer(event));
    } catch (err) {
      throw new Error(`event does not match ${this.subject}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Fast once a writer id has been seen; throws PoisonRecordError for records that can never decode. */
  async decode(buf: Buffer | null): Promise<T> {
    const { schemaId, body } = unframe(buf);
    if (!this.resolvers.has(schemaId)) {
      const writer = await this.registry.writerType(schemaId);
      let resolver: avro.Resolver | undefined;
      if (!writer.equals(this.mapper.type)) {
        try {
          resolver = this.mapper.type.createResolver(writer);
        } catch (err) {
          throw new PoisonRecordError(
            `writer schema ${schemaId} cannot be read as ${this.subject}: ${(err as Error).message}`,
            'undecodable',
            { cause: err },
          );
        }
      }
      this.resolvers.set(schemaId, resolver);
    }
    try {
      return this.mapper.fromBuffer(body, this.resolvers.get(schemaId));
    } catch (err) {
      if (err instanceof PoisonRecordError) throw err;
      throw new PoisonRecordError(
        `Avro body does not decode with schema ${schemaId}: ${(err as Error).message}`,
        'undecodable',
        {
          cause: err,
        },
      );
    }
  }
}
