/**
 * Errors carry a `retriable` flag, as kafkajs's do; the consumer runner branches on it:
 * retriable -> back off and retry without committing; otherwise -> dead-letter and move on.
 */
export class PlatformError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A store or broker is unreachable or overloaded: try again later, lose nothing. */
export class TransientError extends PlatformError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
  }
}

/** The record itself is bad: retrying cannot help. */
export class PoisonRecordError extends PlatformError {
  constructor(
    message: string,
    readonly reason: DeadLetterReason,
    options?: { cause?: unknown },
  ) {
    super(message, false, options);
  }
}

export type DeadLetterReason = 'not-wire-format' | 'unknown-schema' | 'undecodable' | 'invalid' | 'handler-failed';

/**
 * A refusal named by a code from its owner's table (a domain's, a gateway's): the edge maps the
 * code to an HTTP status or a close code, and the message is safe to show the client.
 */
export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The code an error reaching a gateway's edge answers with: its own, when the gateway's table
 * knows it; `unavailable` for a broker or store outage (retriable, kafkajs's errors and the
 * platform's alike: the client may try again); `internal` for anything else, which the client
 * is told nothing about.
 */
export function edgeCodeOf<C extends string>(
  err: unknown,
  known: (code: unknown) => code is C,
): C | 'unavailable' | 'internal' {
  const raw = (err as { code?: unknown } | null)?.code;
  return known(raw) ? raw : isRetriable(err) ? 'unavailable' : 'internal';
}

export function isRetriable(err: unknown): boolean {
  if (err && typeof err === 'object' && 'retriable' in err) return Boolean((err as { retriable: unknown }).retriable);
  return false;
}
