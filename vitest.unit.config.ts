import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the tests next to the code, without the Redis the full suite starts (no global setup).
// The layout rule is that tests next to the code need no Redis and start no control plane; the ones below still
// use Redis and belong in test/ (until they move there, the full `npm test` runs them and this run leaves them out).
const NEED_REDIS = [
  'shared/src/jobs/job-store.test.ts',
  'shared/src/store/lua-script.test.ts',
  'services/scheduler/src/checkpoint-evaluations.test.ts',
  'services/scheduler/src/feeder.test.ts',
  'services/scheduler/src/progress-ingester.test.ts',
  'services/worker/src/gang-rendezvous.test.ts',
];

export default defineConfig({
  test: {
    include: ['shared/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...NEED_REDIS],
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
  },
});
