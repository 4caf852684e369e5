import { assertRedisSafe, createBus, createLogger, createRedis, exitOnSignal, runMain, wallClock } from '@kumo/shared';
import { parseSchedulerEnv, workerSettingsOf } from './env';
import { Scheduler } from './scheduler';

/** The scheduler alone. Run two for failover: one leads, the other takes over within the lease ttl. */
async function main(): Promise<void> {
  const env = parseSchedulerEnv(process.env);
  const logger = createLogger({ name: 'kumo-scheduler', level: env.LOG_LEVEL });
  const probe = createRedis(env.REDIS_URL, 'command', 'scheduler-probe');
  await assertRedisSafe(probe);
  await probe.quit();
  const bus = await createBus({
    kind: env.KUMO_BUS,
    redisUrl: env.REDIS_URL,
    prefix: env.KUMO_PREFIX,
    projectId: env.GOOGLE_CLOUD_PROJECT,
    logger,
  });
  const scheduler = new Scheduler({
    redisUrl: env.REDIS_URL,
    prefix: env.KUMO_PREFIX,
    bus,
    clock: wallClock,
    logger,
    feedIntervalMs: env.KUMO_FEED_INTERVAL_MS,
    scaleIntervalMs: env.KUMO_SCALE_INTERVAL_MS,
    leaderTtlMs: env.KUMO_LEADER_TTL_MS,
    maxEvaluationsPerJob: env.KUMO_MAX_EVALUATIONS_PER_JOB,
    budgetTimeZone: env.KUMO_BUDGET_TIME_ZONE,
    ...(env.KUMO_TASK_LOCK_MS !== undefined ? { taskLockMs: env.KUMO_TASK_LOCK_MS } : {}),
    workerSettings: workerSettingsOf(env),
  });
  await scheduler.start();
  exitOnSignal(
    [
      ['scheduler', () => scheduler.stop()],
      ['bus', () => bus.close()],
    ],
    { deadlineMs: 20_000, logger },
  );
}

runMain('scheduler', main);
