import { TransientError } from './errors.ts';

/**
 * Prometheus's HTTP query API, for the operator dashboard: a range query and the alerts. An
 * unreachable or failing Prometheus is a TransientError (the caller answers 503, not 500).
 */
export interface RangeSeries {
  metric: Record<string, string>;
  /** [epoch seconds, value as Prometheus writes it]. */
  values: Array<[number, string]>;
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
}

export class PrometheusClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  async queryRange(expr: string, range: { start: number; end: number; step: number }): Promise<RangeSeries[]> {
    const q = new URLSearchParams({
      query: expr,
      start: String(range.start),
      end: String(range.end),
      step: String(range.step),
    });
    const data = await this.get<{ resultType: string; result: RangeSeries[] }>(`/api/v1/query_range?${q}`);
    return data.result;
  }

  async alerts(): Promise<PrometheusAlert[]> {
    return (await this.get<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts;
  }

  private async get<T>(path: string): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new TransientError(`prometheus at ${this.baseUrl} does not answer`, { cause: err });
    }
    const body = (await res.json().catch(() => undefined)) as { status?: string; data?: T; error?: string } | undefined;
    if (!res.ok || body?.status !== 'success' || body.data === undefined)
      throw new TransientError(`prometheus answered ${res.status}: ${body?.error ?? 'no data'}`);
    return body.data;
  }
}
