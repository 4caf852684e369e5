import type { TestProject } from 'vitest/node';
import { startTestRedis } from './redis-server';
import { clearTaskGuardRules } from './task-guard-rules';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One redis-server for the whole run, on a free port; every test uses its own key prefix on it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  clearTaskGuardRules();
  const redis = await startTestRedis();
  project.provide('redisUrl', redis.url);
  process.env.KUMO_TEST_REDIS_URL = redis.url;
  return async () => {
    await redis.stop();
    clearTaskGuardRules();
  };
}
