import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RuleTester } from 'eslint';
import { REPO_ROOT } from '../../platform/paths.ts';
import rule from './import-direction.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const at = (file: string) => join(REPO_ROOT, file);
const importing = (from: string, spec: string) => ({ code: `import x from '${spec}';`, filename: at(from) });
const wrong = (from: string, spec: string) => ({ ...importing(from, spec), errors: [{ messageId: 'wrong' }] });

new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } }).run('import-direction', rule, {
  valid: [
    importing('gateways/api/routes.ts', './protocol.ts'),
    importing('gateways/api/routes.ts', '../../domain/stream/evolve.ts'),
    importing('gateways/api/routes.ts', '../../platform/kafka/bus.ts'),
    importing('gateways/api/routes.ts', '../../schemas/topics.ts'),
    importing('media/worker/worker.ts', '../ffmpeg-args.ts'),
    importing('domain/chat/history.ts', '../stream/evolve.ts'),
    importing('domain/chat/history.ts', '../../platform/cassandra.ts'),
    importing('platform/store/run.ts', '../kafka/bus.ts'),
    importing('sinks/follows/plan.unit.spec.ts', '../../tests/support/wait.ts'),
    importing('tests/replay.int.spec.ts', '../sinks/follows/definition.ts'),
    importing('compose/services.ts', '../platform/paths.ts'),
    importing('gateways/api/routes.ts', 'kafkajs'),
  ],
  invalid: [
    wrong('gateways/api/routes.ts', '../../sinks/follows/plan.ts'),
    wrong('gateways/edge/edge.ts', '../origin/server.ts'),
    wrong('tools/replay/cli.ts', '../../processors/packager/definition.ts'),
    wrong('domain/chat/history.ts', '../../sinks/chat-archiver/plan.ts'),
    wrong('platform/auth/tickets.ts', '../../domain/chat/decide.ts'),
    wrong('platform/ffmpeg.ts', '../media/ffmpeg-args.ts'),
    wrong('schemas/codegen.ts', '../platform/kafka/codec.ts'),
    wrong('compose/platform.ts', '../gateways/api/main.ts'),
    wrong('gateways/api/routes.ts', '../../tests/support/wait.ts'),
  ],
});
