/**
 * Mints a bearer token for local use, signed with the API's key:
 *   npm run token -- --user user_123 --name darksouls_pro
 *   npm run token -- --user ops_1 --name ops --admin        (an operator: may end any stream)
 * Prints only the token, so `TOKEN=$(npm run -s token -- ...)` works.
 */
import { cliArgs, usageError, type Tool } from '../../platform/cli.ts';
import { mintToken } from '../../platform/auth/tokens.ts';
import { loadApiConfig } from './config.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';

const TOOL: Tool = {
  name: 'token',
  usage: `usage: npm run token -- --user <user id> --name <display name> [--ttl <seconds>] [--admin]

  --user <id>        the token's subject
  --name <name>      the display name it carries
  --ttl <seconds>    how long it is valid (default API_TOKEN_TTL_S)
  --admin            an operator: may end any stream
  -h, --help         this text`,
};

const { values } = cliArgs(TOOL, {
  options: {
    user: { type: 'string' },
    name: { type: 'string' },
    ttl: { type: 'string' },
    admin: { type: 'boolean', default: false },
  },
});
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
