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

export function platformServices(endpoints: Record<string, string>): ServiceDef[] {
  const shared = { ...endpoints, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  return [
    {
      name: 'discovery-indexer',
      entry: 'src/processors/discovery-indexer/main.ts',
      env: { ...shared, METRICS_PORT: '9410' },
      metricsPort: 9410,
    },
    {
      name: 'chat-archiver',
      entry: 'src/sinks/chat-archiver/main.ts',
      env: { ...shared, METRICS_PORT: '9421' },
      metricsPort: 9421,
    },
    {
      name: 'chat-gateway',
      entry: 'src/gateways/chat/main.ts',
      env: { ...shared, METRICS_PORT: '9420', CHAT_PORT: '8090' },
      metricsPort: 9420,
      url: 'ws://127.0.0.1:8090/streams/<id>/chat',
    },
    {
      name: 'api',
      entry: 'src/gateways/api/main.ts',
      env: { ...shared, METRICS_PORT: '9400', API_PORT: '8080' },
      metricsPort: 9400,
      url: 'http://127.0.0.1:8080/api/v1',
    },
  ];
}
