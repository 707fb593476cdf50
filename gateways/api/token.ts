/**
 * Mints a bearer token for local use, signed with the API's key:
 *   npm run token -- --user user_123 --name darksouls_pro
 *   npm run token -- --user ops_1 --name ops --admin        (an operator: may end any stream)
 *   npm run token -- --revoke user_123                       (refuse every token of the user issued until now)
 * Prints only the token, so `TOKEN=$(npm run -s token -- ...)` works. `--revoke` publishes
 * UserTokensRevoked on live.user.revocations (domain/users/revocation.ts) and prints when the cut is.
 */
import { randomUUID } from 'node:crypto';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { revokeTokens } from '../../domain/users/revocation.ts';
import { cliArgs, usageError, type Tool } from '../../platform/cli.ts';
import { mintToken } from '../../platform/auth/tokens.ts';
import { loadApiConfig } from './config.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';

const TOOL: Tool = {
  name: 'token',
  usage: `usage: npm run token -- --user <user id> --name <display name> [--ttl <seconds>] [--admin]
       npm run token -- --revoke <user id>

  --user <id>        the token's subject
  --name <name>      the display name it carries
  --ttl <seconds>    how long it is valid (default API_TOKEN_TTL_S)
  --admin            an operator: may end any stream
  --revoke <id>      revoke every token and ticket of the user issued until now, on every
                     gateway (an event on live.user.revocations); tokens minted later work
  -h, --help         this text`,
};

const { values } = cliArgs(TOOL, {
  options: {
    user: { type: 'string' },
    name: { type: 'string' },
    ttl: { type: 'string' },
    admin: { type: 'boolean', default: false },
    revoke: { type: 'string' },
  },
});
if (values.revoke !== undefined) {
  if (!values.revoke || values.user || values.name)
    usageError(TOOL, '--revoke takes a user id, and no --user or --name');
  const cfg = loadApiConfig();
  const bus = busFromConfig(
    cfg,
    'token-cli',
    new Metrics('token-cli', { defaults: false }),
    createLogger('token', 'error'),
  );
  const event = revokeTokens(values.revoke, Date.now(), null, randomUUID);
  await bus.init(['userRevocations']);
  const producer = bus.producer();
  await producer.connect();
  try {
    await producer.publish(bus.topic('userRevocations'), [event]);
  } finally {
    await producer.disconnect();
  }
  console.log(
    JSON.stringify({ user_id: event.userId, revoked_before: new Date(event.revokedBefore * 1000).toISOString() }),
  );
  process.exit(0);
}
if (!values.user || !values.name) usageError(TOOL, 'a token needs --user and --name');
const cfg = loadApiConfig();
const ttl = values.ttl ? Number(values.ttl) : cfg.API_TOKEN_TTL_S;
if (!Number.isInteger(ttl) || ttl <= 0) usageError(TOOL, '--ttl must be a positive whole number of seconds');
console.log(
  await mintToken(
    loadSigningKey(cfg),
    tokenSettings(cfg),
    { userId: values.user, username: values.name, admin: values.admin },
    ttl,
  ),
);
