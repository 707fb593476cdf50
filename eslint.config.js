// Type-aware linting: floating promises and misused promises are errors, because an
// unawaited send or commit is a lost event.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importDirection from './scripts/lint/import-direction.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'web/dist/',
      '.data/',
      'scratch/',
      'schemas/generated/',
      'docs/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'scripts/lint/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      'live/import-direction': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'kafkajs',
              message:
                'the bus owns Kafka: use EventBus (platform/kafka/bus.ts) for producers, consumers, `read` and ' +
                '`admin()`/`withAdmin` (platform/kafka/admin.ts), or a platform/kafka function (groups.ts, health.ts, ' +
                'baseline.ts); what is missing belongs in platform/kafka',
            },
          ],
        },
      ],
    },
    plugins: { live: { rules: { 'import-direction': importDirection } } },
  },
  {
    // The one place kafkajs is wrapped.
    files: ['platform/kafka/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', 'tests/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    // Plain JavaScript read by ESLint itself: no types to check it with.
    files: ['scripts/lint/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
