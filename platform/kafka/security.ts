import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.ts';

/**
 * How a client proves itself to a secured cluster (compose/docker-compose.secure.yml, SECURITY.md):
 * SASL/SCRAM over TLS. Absent, the client speaks PLAINTEXT, which the local launcher and the
 * default compose file bind to loopback only.
 */
export interface KafkaSecurity {
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain'; username: string; password: string };
  /** TLS to the brokers; `ca` in PEM when they are signed by a private CA. */
  tls?: { ca?: string };
}

export interface KafkaSecurityEnv {
  KAFKA_SASL_MECHANISM?: 'scram-sha-256' | 'scram-sha-512' | 'plain' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_TLS?: boolean | undefined;
  KAFKA_TLS_CA_FILE?: string | undefined;
}

/** The security a config asks for; a ConfigError names every half-given setting. */
export function kafkaSecurityOf(cfg: KafkaSecurityEnv, read = (f: string) => readFileSync(f, 'utf8')): KafkaSecurity {
  const problems: string[] = [];
  const sasl = [cfg.KAFKA_SASL_MECHANISM, cfg.KAFKA_SASL_USERNAME, cfg.KAFKA_SASL_PASSWORD];
  if (sasl.some(Boolean) && !sasl.every(Boolean))
    problems.push(
      'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD go together: set all three or none',
    );
  if (cfg.KAFKA_SASL_MECHANISM === 'plain' && !cfg.KAFKA_TLS)
    problems.push('KAFKA_SASL_MECHANISM=plain sends the password as it is: set KAFKA_TLS=true');
  if (cfg.KAFKA_TLS_CA_FILE && !cfg.KAFKA_TLS) problems.push('KAFKA_TLS_CA_FILE is set but KAFKA_TLS is not true');
  let ca: string | undefined;
  if (cfg.KAFKA_TLS_CA_FILE) {
    try {
      ca = read(cfg.KAFKA_TLS_CA_FILE);
    } catch (err) {
      problems.push(`KAFKA_TLS_CA_FILE: cannot read ${cfg.KAFKA_TLS_CA_FILE} (${(err as Error).message})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    ...(cfg.KAFKA_SASL_MECHANISM &&
      cfg.KAFKA_SASL_USERNAME &&
      cfg.KAFKA_SASL_PASSWORD && {
        sasl: {
          mechanism: cfg.KAFKA_SASL_MECHANISM,
          username: cfg.KAFKA_SASL_USERNAME,
          password: cfg.KAFKA_SASL_PASSWORD,
        },
      }),
    ...(cfg.KAFKA_TLS && { tls: ca === undefined ? {} : { ca } }),
  };
}
