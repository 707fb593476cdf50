import { Client, errors } from '@elastic/elasticsearch';
import { TransientError } from '../errors.ts';

/**
 * The one place an Elasticsearch client is built, and the one place its failures are sorted into
 * the platform's retriable / not-retriable errors. Stores built on it (sinks/elasticsearch) take
 * the client as a parameter; nothing else imports @elastic/elasticsearch.
 *
 * The client's own retries are off: the consumer runner retries with backoff and heartbeats, and
 * the API answers 503 rather than holding a request open.
 *
 * Never call client.info() or ping(): some distributions answer `GET /` with 405; readiness is
 * `_cluster/health`.
 */
export type Elasticsearch = Client;

export function createElasticsearch(opts: { url: string; requestTimeoutMs?: number }): Elasticsearch {
  return new Client({
    node: opts.url,
    maxRetries: 0,
    requestTimeout: opts.requestTimeoutMs ?? 10_000,
    compression: false,
  });
}

/** HTTP statuses that mean "the cluster cannot take this now", not "this request is wrong". */
export const isRetriableStatus = (status: number | undefined): boolean =>
  status === undefined || status === 408 || status === 429 || status >= 500;

/**
 * A client error as a platform error: unreachable, timed out, overloaded or failing cluster ->
 * TransientError; anything else (a 4xx the request earned) is returned as it was.
 */
export function classifyElasticsearchError(err: unknown, what: string): Error {
  if (
    err instanceof errors.ConnectionError ||
    err instanceof errors.TimeoutError ||
    err instanceof errors.NoLivingConnectionsError ||
    err instanceof errors.RequestAbortedError
  ) {
    return new TransientError(`elasticsearch ${what}: ${err.message}`, { cause: err });
  }
  if (err instanceof errors.ResponseError && isRetriableStatus(err.statusCode)) {
    return new TransientError(`elasticsearch ${what} answered ${err.statusCode}: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** The `error.type` Elasticsearch answered with (`index_not_found_exception`, ...), if any. */
export function errorType(err: unknown): string | undefined {
  return err instanceof errors.ResponseError
    ? (err.body as { error?: { type?: string } } | undefined)?.error?.type
    : undefined;
}

/** Runs one request, rethrowing its failure classified. */
export async function esCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyElasticsearchError(err, what);
  }
}

/**
 * Resolves once the cluster answers with at least yellow health, retrying an unreachable cluster
 * with capped backoff until `deadlineMs` (a service passes Infinity: it waits for its store
 * rather than crash-looping). Not-retriable answers (wrong URL, auth) fail at once.
 */
export async function clusterReady(
  es: Elasticsearch,
  opts: { deadlineMs: number; onRetry?: (err: Error, attempt: number) => void },
): Promise<void> {
  const until = Date.now() + opts.deadlineMs;
  for (let attempt = 1, delay = 250; ; attempt++, delay = Math.min(delay * 2, 5000)) {
    try {
      await esCall('cluster health', () => es.cluster.health({ wait_for_status: 'yellow', timeout: '10s' }));
      return;
    } catch (err) {
      if (!(err instanceof TransientError) || Date.now() + delay > until) throw err;
      opts.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
