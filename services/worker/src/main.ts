import { createBus, createLogger, wallClock } from '@kumo/shared';
import { parseWorkerEnv } from './env';
import { WorkerAgent } from './worker-agent';

/**
 * The worker agent: one per VM (started by the VM's startup script) or per local process. Exits when
 * told to (SIGTERM: drain, then hand back), or when the process that started it goes away.
 */
async function main(): Promise<void> {
  const env = parseWorkerEnv();
  const logger = createLogger({ name: 'kumo-worker', level: env.LOG_LEVEL });
  const bus = await createBus({ kind: env.KUMO_BUS, redisUrl: env.REDIS_URL, prefix: env.KUMO_PREFIX, projectId: env.GOOGLE_CLOUD_PROJECT, logger });
  const agent = new WorkerAgent({
    redisUrl: env.REDIS_URL,
    prefix: env.KUMO_PREFIX,
    bus,
    pool: env.KUMO_POOL,
    id: env.KUMO_WORKER_NAME,
    slots: env.KUMO_SLOTS,
    lockMs: env.KUMO_TASK_LOCK_MS,
    drainMs: env.KUMO_DRAIN_MS,
    heartbeatMs: env.KUMO_HEARTBEAT_MS,
    clock: wallClock,
    logger,
  });
  let exiting = false;
  const shutdown = async (why: string, handBackNow: boolean): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.info({ why }, 'worker shutting down');
    const deadline = setTimeout(() => {
      logger.error('worker shutdown passed its deadline; exiting');
      process.exit(1);
    }, env.KUMO_DRAIN_MS + 25_000);
    deadline.unref();
    await agent.stop({ handBackNow });
    await bus.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', false));
  process.on('SIGINT', () => void shutdown('SIGINT', false));
  // Started by a local control plane over IPC: when it dies (even by kill -9), hand back and go.
  if (process.send) process.on('disconnect', () => void shutdown('parent gone', true));
  await agent.start();
}

main().catch((err: unknown) => {
  console.error(`kumo worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
