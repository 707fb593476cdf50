import avro from 'avsc';
import { PoisonRecordError } from '../errors.ts';
import { avroOptions, type SchemaRegistryClient } from './registry.ts';
import { MAGIC_BYTE, unframe } from './wire.ts';

/** What `EventCodec.decodeSync` returns when the record's writer schema is not loaded yet. */
export const NEEDS_WRITER_SCHEMA: unique symbol = Symbol('needs writer schema');

const HEADER = 5; // magic byte + schema id
/** `encodeAll` writes values into shared slabs of up to this size rather than one buffer each. */
const SLAB_BYTES = 64 * 1024;

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
    return this.encodeAll([event])[0]!;
  }

  /**
   * Encodes events to Confluent wire format. Each value (header and Avro body) is written once, in
   * place, into a slab shared with its neighbours: no per-event allocation or copy. The returned
   * buffers are views of those slabs and are never written again.
   */
  encodeAll(events: readonly T[]): Buffer[] {
    const id = this.id;
    const out = new Array<Buffer>(events.length);
    let slab = Buffer.allocUnsafeSlow(Math.min(SLAB_BYTES, events.length * 256));
    let pos = 0;
    for (let i = 0; i < events.length; i++) {
      const value = this.toAvro(events[i]!);
      let end = this.write(value, slab, pos, id);
      if (end < 0) {
        // Did not fit: a new slab, or a buffer of its own for a value larger than a slab.
        slab = Buffer.allocUnsafeSlow(Math.min(SLAB_BYTES, (events.length - i) * 256));
        pos = 0;
        end = this.write(value, slab, 0, id);
        if (end < 0) {
          slab = Buffer.allocUnsafeSlow(slab.length - end);
          end = this.write(value, slab, 0, id);
        }
      }
      out[i] = slab.subarray(pos, end);
      pos = end;
    }
    return out;
  }

  private toAvro(event: T): unknown {
    try {
      return this.mapper.toAvro(event);
    } catch (err) {
      throw new Error(`event does not match ${this.subject}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Writes header and body at `pos`; returns the end, or a negative number if `buf` is too short. */
  private write(value: unknown, buf: Buffer, pos: number, id: number): number {
    if (pos + HEADER > buf.length) return -1;
    buf[pos] = MAGIC_BYTE;
    buf.writeInt32BE(id, pos + 1);
    try {
      // avsc returns the end offset, or (buf.length - needed end) < 0 when the value did not fit.
      return this.mapper.type.encode(value, buf, pos + HEADER);
    } catch (err) {
      const paths: string[] = [];
      this.mapper.type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
      throw new Error(
        `event does not match ${this.subject}: invalid at ${paths.join(', ') || (err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Fast once a writer id has been seen; throws PoisonRecordError for records that can never decode. */
  async decode(buf: Buffer | null): Promise<T> {
    const value = this.decodeSync(buf);
    if (value !== NEEDS_WRITER_SCHEMA) return value;
    await this.loadWriter(buf!.readInt32BE(1));
    return this.decodeSync(buf) as T;
  }

  /**
   * `decode` without a promise, for the consumer's hot loop: decodes when the record's writer
   * schema is already known (every record after the first of its schema id) and returns
   * NEEDS_WRITER_SCHEMA otherwise (then `decode` fetches it). Throws PoisonRecordError for
   * records that can never decode.
   */
  decodeSync(buf: Buffer | null): T | typeof NEEDS_WRITER_SCHEMA {
    if (!buf || buf.length < HEADER || buf[0] !== MAGIC_BYTE) unframe(buf); // throws the precise reason
    const schemaId = buf!.readInt32BE(1);
    const resolver = this.resolvers.get(schemaId);
    if (resolver === undefined && !this.resolvers.has(schemaId)) return NEEDS_WRITER_SCHEMA;
    let decoded: { value: unknown; offset: number };
    try {
      decoded = this.mapper.type.decode(buf!, HEADER, resolver) as { value: unknown; offset: number };
    } catch (err) {
      throw this.undecodable(schemaId, (err as Error).message, err);
    }
    const { value, offset: end } = decoded;
    if (end !== buf!.length) throw this.undecodable(schemaId, end < 0 ? 'truncated buffer' : 'trailing data');
    try {
      return this.mapper.fromAvro(value);
    } catch (err) {
      if (err instanceof PoisonRecordError) throw err;
      throw this.undecodable(schemaId, (err as Error).message, err);
    }
  }

  private undecodable(schemaId: number, why: string, cause?: unknown): PoisonRecordError {
    return new PoisonRecordError(`Avro body does not decode with schema ${schemaId}: ${why}`, 'undecodable', { cause });
  }

  private async loadWriter(schemaId: number): Promise<void> {
    if (this.resolvers.has(schemaId)) return;
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
}
