import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { PoisonRecordError, TransientError } from '../errors.ts';

/**
 * The Confluent-compatible Schema Registry, reached through @kafkajs/confluent-schema-registry
 * for registration and schema lookup, plus the two calls it lacks (subject config and
 * compatibility checks). Subjects are pinned to BACKWARD_TRANSITIVE before their first schema,
 * so every version can read every older one.
 */
/** A fresh object each time: avsc stores parsed names in the options it is given. */
export const avroOptions = (): Partial<avro.ForSchemaOptions> => ({ wrapUnions: 'auto', omitRecordMethods: true });

export type Compatibility = 'BACKWARD_TRANSITIVE' | 'FULL_TRANSITIVE';

export class SchemaRegistryClient {
  private readonly lib: SchemaRegistry;
  private readonly writers = new Map<number, Promise<avro.Type>>();

  /** The registry's URL without credentials: safe to log. */
  readonly url: string;
  private readonly authorization: string | undefined;

  /** `url` may carry basic-auth credentials (`https://user:password@registry`), as a secured registry wants. */
  constructor(url: string) {
    const u = new URL(url);
    const auth = u.username
      ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
      : undefined;
    u.username = '';
    u.password = '';
    this.url = u.toString().replace(/\/$/, '');
    this.authorization = auth && `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    this.lib = new SchemaRegistry(
      {
        host: this.url,
        ...(auth && { auth }),
        retry: { retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
      },
      { [SchemaType.AVRO]: avroOptions() },
    );
  }

  /** Pins the subject's compatibility, then registers; the registry refuses an incompatible schema (409). */
  async register(subject: string, schema: object, level: Compatibility = 'BACKWARD_TRANSITIVE'): Promise<number> {
    await this.pinCompatibility(subject, level);
    try {
      const { id } = await this.lib.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY[level] },
      );
      return id;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 409) {
        throw new IncompatibleSchemaError(subject, (err as Error).message);
      }
      throw err;
    }
  }

  /**
   * Services starting together register the same new subject at once, and Apicurio creates a
   * subject's compatibility rule with an insert: all but one of those first PUTs can get 409
   * "A rule named 'COMPATIBILITY' already exists". The rule exists then, so the PUT is sent again,
   * now as an update (two chat gateways failed to start on this in a clean-clone test run).
   */
  private async pinCompatibility(subject: string, level: Compatibility): Promise<void> {
    const put = () => this.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
    try {
      await put();
    } catch (err) {
      if ((err as { status?: number }).status !== 409) throw err;
      await put();
    }
  }

  /** Whether `schema` could be registered: checked against every version (transitive). */
  async isCompatible(subject: string, schema: object): Promise<{ compatible: boolean; messages: string[] }> {
    const res = (await this.call(
      'POST',
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions?verbose=true`,
      {
        schema: JSON.stringify(schema),
      },
    )) as { is_compatible: boolean; messages?: string[] };
    return { compatible: res.is_compatible, messages: res.messages ?? [] };
  }

  async subjectVersions(subject: string): Promise<number[]> {
    try {
      return (await this.call('GET', `/subjects/${encodeURIComponent(subject)}/versions`)) as number[];
    } catch (err) {
      if ((err as { status?: number }).status === 404) return [];
      throw err;
    }
  }

  async schemaOf(subject: string, version: number): Promise<object> {
    const res = (await this.call('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`)) as {
      schema: string;
    };
    return JSON.parse(res.schema) as object;
  }

  /**
   * The writer schema for an id found in a record, parsed once and cached for the process.
   * A 404 is the record's fault (dead-letter it); anything else is the registry's (retry).
   */
  writerType(id: number): Promise<avro.Type> {
    let pending = this.writers.get(id);
    if (!pending) {
      pending = this.lib.getSchema(id).then(
        (s) => avro.Type.forSchema((s as unknown as avro.Type).schema() as avro.Schema, avroOptions()),
        (err: unknown) => {
          this.writers.delete(id);
          const status = (err as { status?: number }).status;
          if (status === 404) {
            throw new PoisonRecordError(`schema id ${id} is unknown to the registry`, 'unknown-schema', { cause: err });
          }
          throw new TransientError(`schema registry unavailable: ${(err as Error).message}`, { cause: err });
        },
      );
      this.writers.set(id, pending);
    }
    return pending;
  }

  /**
   * The writer schema for an id as the registry holds it (JSON, logical types kept), for readers
   * that walk the schema themselves (the Parquet archive). Errors as `writerType`.
   */
  async schemaById(id: number): Promise<object> {
    try {
      const res = (await this.call('GET', `/schemas/ids/${id}`)) as { schema: string };
      return JSON.parse(res.schema) as object;
    } catch (err) {
      if ((err as { status?: number }).status === 404) {
        throw new PoisonRecordError(`schema id ${id} is unknown to the registry`, 'unknown-schema', { cause: err });
      }
      if (err instanceof TransientError) throw err;
      throw new TransientError(`schema registry unavailable: ${(err as Error).message}`, { cause: err });
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          'content-type': 'application/vnd.schemaregistry.v1+json',
          ...(this.authorization && { authorization: this.authorization }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new TransientError(`schema registry ${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) {
      const e = new Error(`schema registry ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
      Object.assign(e, { status: res.status });
      throw e;
    }
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
}

export class IncompatibleSchemaError extends Error {
  constructor(
    readonly subject: string,
    detail: string,
  ) {
    super(`schema for ${subject} is incompatible with a registered version: ${detail}`);
    this.name = 'IncompatibleSchemaError';
  }
}
