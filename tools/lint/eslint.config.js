// ESLint for the whole repository. It lives here, beside its own install (tools/lint/package.json), because
// typescript-eslint needs TypeScript's JS API, which the TypeScript 7 the root typechecks with no longer ships.
// The root eslint.config.js re-exports this file, so `files` and `ignores` below are relative to the repository root.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SERVICES = ['api', 'cli', 'local', 'provisioner', 'scheduler', 'worker'];

// A relative import that climbs into a package's sources (`../../scheduler/src/feeder`, `../../../shared/src/x`):
// packages are reached by name (`@kumo/scheduler`), through what their src/index.ts exports.
const intoPackageSources = (names) => ({
  regex: `^(\\.\\./)+(${names.join('|')})/src(/|$)`,
  message: 'Import the package by name (@kumo/<name>), not its sources by a relative path.',
});
const intoServiceSources = {
  regex: `^(\\.\\./)+services/(${SERVICES.join('|')})/src(/|$)`,
  message: 'Import the service by its package name (@kumo/<service>), not its sources by a relative path.',
};

// Which @kumo packages each part may import: no service imports another; shared/ imports no service;
// only services/local composes them (and the CLI's build scripts read the API's schema to generate its types).
const boundary = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: forbidden.map((name) => ({ name: `@kumo/${name}`, message: why })),
        patterns: [intoPackageSources(['shared', ...SERVICES]), intoServiceSources],
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      'services/cli/src/generated/**',
      'dashboards/web/dist/**',
      'dashboards/web/dist.staging-*/**',
      'bench/results/**',
      'coverage/**',
      'test-artifacts/**',
      '.kumo/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      // `_`-prefixed parameters and caught errors are unused on purpose (a callback's shape, an ignored failure).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Comparisons with `==` hide type confusion; `== null` (null or undefined) is the one idiom allowed.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
  {
    // A file does one thing: past 300 lines it is doing two (generated files, ignored above, aside).
    files: ['services/**/*.ts', 'shared/src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 300 }] },
  },
  {
    // Test fakes and benchmarks read loosely shaped JSON (Google's REST bodies, Redis INFO); `any` is allowed there only.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['dashboards/web/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  ...SERVICES.filter((s) => s !== 'local').map((service) =>
    boundary(
      [`services/${service}/src/**`],
      SERVICES.filter((other) => other !== service),
      'A service imports no other service: they meet in Redis, on the bus and over HTTP; services/local composes them.',
    ),
  ),
  boundary(['shared/src/**'], SERVICES, 'shared/ is below every service and imports none of them.'),
  boundary(['services/local/src/**'], [], ''),
  boundary(['test/**', 'bench/**'], [], ''),
);
