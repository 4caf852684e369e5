import type { Redis } from 'ioredis';
import {
  createRedis,
  DispatchLatencyRecorder,
  GangStore,
  JobSpecCache,
  JobStore,
  Keys,
  WorkerRegistry,
  type Logger,
} from '@kumo/shared';
import { defaultAddress, GangMembership } from './gang-member';
import { ProgressReporter } from './progress-reporter';
import { RunningTasks } from './running-tasks';
import { TaskAttempt } from './task-attempt';
import type { WorkerAgentOptions } from './worker-options';

/** What a WorkerAgent works with: its connections, stores and helpers. */
export interface WorkerParts {
  keys: Keys;
  commands: Redis;
  subscriber: Redis;
  store: JobStore;
  jobs: JobSpecCache;
  gangs: GangMembership;
  running: RunningTasks;
  registry: WorkerRegistry;
  reporter: ProgressReporter;
  attempt: TaskAttempt;
  /** Metrics hook: dispatch latency, aggregated in Redis for the API's /metrics. */
  latency: DispatchLatencyRecorder;
}

/**
 * Builds a WorkerAgent's parts from its options (the wiring, apart from the agent's life and task flow).
 * `draining` tells whether the agent is draining now.
 */
export function createWorkerParts(opts: WorkerAgentOptions, log: Logger, draining: () => boolean): WorkerParts {
  const keys = new Keys(opts.prefix);
  const commands = createRedis(opts.redisUrl, 'command', `worker-${opts.id}`, { logger: log });
  const subscriber = createRedis(opts.redisUrl, 'subscriber', `worker-${opts.id}`, { logger: log });
  const store = new JobStore(commands, { prefix: opts.prefix, clock: opts.clock });
  const jobs = new JobSpecCache(store, { clock: opts.clock });
  const gangStore = new GangStore(commands, { prefix: opts.prefix, clock: opts.clock });
  const gangs = new GangMembership({
    gangs: gangStore,
    jobs,
    workerId: opts.id,
    addr: opts.addr ?? defaultAddress(),
    clock: opts.clock,
    log,
  });
  const running = new RunningTasks((t) => gangs.endGeneration(t), log);
  const registry = new WorkerRegistry(commands, {
    prefix: opts.prefix,
    clock: opts.clock,
    ttlMs: Math.max(15_000, opts.heartbeatMs * 3),
  });
  const reporter = new ProgressReporter({ bus: opts.bus, workerId: opts.id, logger: log, clock: opts.clock });
  const attempt = new TaskAttempt({
    store,
    reporter,
    gangs,
    running,
    workerId: opts.id,
    sandbox: opts.sandbox,
    ...(opts.containers ? { containers: opts.containers } : {}),
    machineEnv: opts.machineEnv,
    ...(opts.artifactsDir ? { artifactsDir: opts.artifactsDir } : {}),
    ...(opts.artifacts ? { artifacts: opts.artifacts } : {}),
    ...(opts.logMaxBytes ? { logMaxBytes: opts.logMaxBytes } : {}),
    draining,
    clock: opts.clock,
    log,
  });
  const latency = new DispatchLatencyRecorder(commands, keys.metricsDispatchLatency(opts.pool), {
    clock: opts.clock,
    onError: (err) => log.warn({ err }, 'dispatch latency not recorded'),
  });
  return { keys, commands, subscriber, store, jobs, gangs, running, registry, reporter, attempt, latency };
}
