/**
 * Mints a bearer token for local use, signed with the API's key (its options: `program`, and
 * `--help`). Prints only the token, so `TOKEN=$(npm run -s token -- ...)` works.
 */
import { integer, run, tool, usageError } from '../../platform/cli.ts';
import { mintToken } from '../../platform/auth/tokens.ts';
import { loadApiConfig } from './config.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';

const program = tool({
  name: 'token',
  command: 'npm run token --',
  description: "Mints a bearer token signed with the API's key, and prints only the token.",
  examples: [
    'npm run token -- --user user_123 --name darksouls_pro',
    'npm run token -- --user ops_1 --name ops --admin             # an operator: may end any stream',
    'TOKEN=$(npm run -s token -- --user user_123 --name darksouls_pro --ttl 3600)',
  ],
  notes: "The key and the default lifetime come from the API gateway's environment (gateways/api/config.ts).",
})
  .option('--user <id>', "the token's subject (required)")
  .option('--name <name>', 'the display name it carries (required)')
  .option('--ttl <seconds>', 'how long it is valid (default: API_TOKEN_TTL_S)', integer(1))
  .option('--admin', 'an operator: may end any stream')
  .action(async (options) => {
    // Not commander's required options: those it checks before an unknown one, which is the likelier mistake.
    if (!options.user || !options.name) usageError(program, 'a token needs --user and --name');
    const cfg = loadApiConfig();
    console.log(
      await mintToken(
        loadSigningKey(cfg),
        tokenSettings(cfg),
        { userId: options.user, username: options.name, admin: options.admin ?? false },
        options.ttl ?? cfg.API_TOKEN_TTL_S,
      ),
    );
  });

await run(program);
