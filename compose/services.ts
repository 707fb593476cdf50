/**
 * The platform's long-running services as `./live up` starts them: entry point, environment
 * (derived from the server endpoints) and the port of their /metrics and /healthz.
 */
export interface ServiceDef {
  name: string;
  entry: string;
  env: Record<string, string>;
  metricsPort: number;
  /** Where a person reaches it, for the `up` summary. */
  url?: string;
}

export function platformServices(_endpoints: Record<string, string>): ServiceDef[] {
  return [];
}
