/**
 * Mints a bearer token for local use, signed with the API's key:
 *   npm run token -- --user user_123 --name darksouls_pro
 *   npm run token -- --user ops_1 --name ops --admin        (an operator: may end any stream)
 * Prints only the token, so `TOKEN=$(npm run -s token -- ...)` works.
 */
import { parseArgs } from 'node:util';
import { mintToken } from '../../platform/auth/tokens.ts';
import { loadApiConfig } from './config.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    name: { type: 'string' },
    ttl: { type: 'string' },
    admin: { type: 'boolean', default: false },
  },
});
if (!values.user || !values.name) {
  console.error('usage: npm run token -- --user <user id> --name <display name> [--ttl <seconds>] [--admin]');
  process.exit(2);
}
const cfg = loadApiConfig();
const ttl = values.ttl ? Number(values.ttl) : cfg.API_TOKEN_TTL_S;
if (!Number.isInteger(ttl) || ttl <= 0) {
  console.error('--ttl must be a positive whole number of seconds');
  process.exit(2);
}
console.log(
  await mintToken(
    loadSigningKey(cfg),
    tokenSettings(cfg),
    { userId: values.user, username: values.name, admin: values.admin },
    ttl,
  ),
);
