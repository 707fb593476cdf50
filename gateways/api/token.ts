/**
 * Mints a bearer token for local use, signed with the API's key, or revokes a user's tokens (its
 * options: `program`, and `--help`). Prints only the token, so `TOKEN=$(npm run -s token -- ...)`
 * works. `--revoke` publishes UserTokensRevoked on live.user.revocations
 * (domain/users/revocation.ts) and prints when the cut is.
 */
import { randomUUID } from 'node:crypto';
import { Option } from '@commander-js/extra-typings';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { revokeTokens } from '../../domain/users/revocation.ts';
import { integer, run, tool, usageError } from '../../platform/cli.ts';
import { mintToken } from '../../platform/auth/tokens.ts';
import { loadApiConfig, type ApiConfig } from './config.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';

const program = tool({
  name: 'token',
  command: 'npm run token --',
  description:
    "Mints a bearer token signed with the API's key and prints only the token; or, with --revoke, " +
    'refuses every token and ticket of a user issued until now, on every gateway.',
  examples: [
    'npm run token -- --user user_123 --name darksouls_pro',
    'npm run token -- --user ops_1 --name ops --admin             # an operator: may end any stream',
    'TOKEN=$(npm run -s token -- --user user_123 --name darksouls_pro --ttl 3600)',
    'npm run token -- --revoke user_123                           # tokens minted later work',
  ],
  notes: "The key and the default lifetime come from the API gateway's environment (gateways/api/config.ts).",
})
  .option('--user <id>', "the token's subject (required to mint)")
  .option('--name <name>', 'the display name it carries (required to mint)')
  .option('--ttl <seconds>', 'how long it is valid (default: API_TOKEN_TTL_S)', integer(1))
  .option('--admin', 'an operator: may end any stream')
  .addOption(
    new Option(
      '--revoke <id>',
      'revoke every token and ticket of the user issued until now, on every gateway (an event on live.user.revocations); tokens minted later work',
    ).conflicts(['user', 'name', 'ttl', 'admin']),
  )
  .action(async (options) => {
    if (options.revoke !== undefined) {
      if (!options.revoke) usageError(program, '--revoke takes a user id');
      await revoke(loadApiConfig(), options.revoke);
      return;
    }
    // Not commander's required options: those it checks before an unknown one, which is the likelier mistake.
    if (!options.user || !options.name) usageError(program, 'a token needs --user and --name (or --revoke)');
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

async function revoke(cfg: ApiConfig, userId: string): Promise<void> {
  const bus = busFromConfig(
    cfg,
    'token-cli',
    new Metrics('token-cli', { defaults: false }),
    createLogger('token', 'error'),
  );
  const event = revokeTokens(userId, Date.now(), null, randomUUID);
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
}

await run(program);
