import {
  createArtifactStore,
  createBus,
  createLogger,
  KumoError,
  machineEnvironment,
  runMain,
  wallClock,
} from '@kumo/shared';
import { homedir, tmpdir } from 'node:os';
import { metadataUrlOf, parseWorkerEnv, sandboxSettingsOf } from './env';
import { ContainerRuntime } from './sandbox/containers';
import { systemTool, TaskSandbox } from './sandbox/task-sandbox';
import { metadataEndpoint, NetworkGuard, redisEndpoint, type GuardedEndpoint } from './sandbox/network-guard';
import { PreemptionWatcher } from './preemption-watcher';
import { HttpWorkerAgent } from './http-worker-agent';
import { WorkerAgent } from './worker-agent';

/**
 * The worker agent: one per VM (started by the VM's startup script) or per local process. Exits when
 * told to (SIGTERM: drain, then hand back), when its VM is being preempted (hand back at once), or when
 * the process that started it goes away.
 */
async function main(): Promise<void> {
  // Started by a local control plane over IPC: its death (even by kill -9) must stop this worker. The
  // channel can close while start-up below is still connecting; 'disconnect' fires once, so listen now
  // and act on it once there is something to shut down.
  let parentGone = Boolean(process.send) && !process.connected;
  let onParentGone = (): void => {
    parentGone = true;
  };
  if (process.send) process.on('disconnect', () => onParentGone());
  const env = parseWorkerEnv(process.env);
  const logger = createLogger({ name: 'kumo-worker', level: env.LOG_LEVEL });
  const sandbox = new TaskSandbox(
    sandboxSettingsOf(env, { tempDir: tmpdir(), homeDir: homedir(), workDir: process.cwd() }),
  );
  // The machine's own variables a task may see: read here, the one place that reads process.env.
  const containers = new ContainerRuntime(env.KUMO_WORKER_NAME, undefined, logger);
  const taskHost = {
    sandbox,
    containers,
    machineEnv: machineEnvironment(process.env),
    logMaxBytes: env.KUMO_TASK_LOG_MAX_BYTES,
  };
  const notIsolated = sandbox.describe();
  if (notIsolated) logger.warn({ mode: sandbox.mode }, notIsolated);
  // Image tasks' containers are dockerd's, not this process's: a run of this worker that died (kill -9, a
  // crash systemd restarts) left its containers running. They go before this run takes any task. Only
  // under a name set for this machine: the default (worker-<pid>) may be another live worker's.
  if (process.env.KUMO_WORKER_NAME && systemTool('docker')) await containers.removeLeftovers(logger);
  const metadataUrl = metadataUrlOf(env);
  // Isolated tasks cannot reach the metadata server (the VM's tokens) or Redis (the control plane's
  // state). On a VM that is a hard requirement; elsewhere Redis's password is the line of defence.
  const guarded: GuardedEndpoint[] = [
    ...(metadataUrl ? [metadataEndpoint(metadataUrl)] : []),
    ...(env.KUMO_WORKER_TOKEN ? [] : [redisEndpoint(env.REDIS_URL)]),
  ];
  let guard: NetworkGuard | undefined;
  if (sandbox.mode === 'isolated' && guarded.length && NetworkGuard.available()) {
    guard = new NetworkGuard({
      workerName: env.KUMO_WORKER_NAME,
      uidFirst: env.KUMO_TASK_UID_BASE,
      uidLast: env.KUMO_TASK_UID_BASE + env.KUMO_TASK_UID_SPAN - 1,
      logger,
    });
    await guard.install(guarded);
  } else if (sandbox.mode === 'isolated' && env.KUMO_ON_GCE === '1') {
    throw new KumoError(
      'CONFIG_INVALID',
      'on Compute Engine the worker needs iptables, to keep tasks away from the metadata server',
    );
  } else if (guarded.length) {
    logger.warn(
      'iptables is not available: tasks can connect to Redis (they still need its password) and to the metadata server',
    );
  }
  const watcher = metadataUrl
    ? new PreemptionWatcher({
        metadataUrl,
        clock: wallClock,
        logger,
        intervalMs: env.KUMO_PREEMPTION_POLL_MS,
        onPreempted: () => shutdown('preempted', true),
      })
    : undefined;
  // systemd restarts the worker (Restart=always) until the power goes: a restarted worker on a VM
  // already marked preempted must not lease tasks it cannot finish.
  if (watcher && (await watcher.check(2000)) === true) {
    logger.warn('this VM is already being preempted; not starting');
    process.exit(0);
  }

  // With a worker token, the worker talks only HTTPS to the API (a contributor's own machine); without,
  // it is one of the fleet's, next to Redis and the bus.
  const bus = env.KUMO_WORKER_TOKEN
    ? undefined
    : await createBus({
        kind: env.KUMO_BUS,
        redisUrl: env.REDIS_URL,
        prefix: env.KUMO_PREFIX,
        projectId: env.GOOGLE_CLOUD_PROJECT,
        logger,
      });
  const agent: { start(): Promise<void>; stop(o: { handBackNow?: boolean }): Promise<void> } = bus
    ? new WorkerAgent({
        redisUrl: env.REDIS_URL,
        prefix: env.KUMO_PREFIX,
        bus,
        pool: env.KUMO_POOL,
        id: env.KUMO_WORKER_NAME,
        slots: env.KUMO_SLOTS,
        lockMs: env.KUMO_TASK_LOCK_MS,
        drainMs: env.KUMO_DRAIN_MS,
        heartbeatMs: env.KUMO_HEARTBEAT_MS,
        ...taskHost,
        ...(env.KUMO_WORKER_ADDR ? { addr: env.KUMO_WORKER_ADDR } : {}),
        artifactsDir: env.KUMO_ARTIFACTS_DIR,
        artifacts: createArtifactStore({
          localDir: env.KUMO_ARTIFACTS_DIR,
          ...(env.KUMO_ARTIFACTS_BUCKET ? { bucket: env.KUMO_ARTIFACTS_BUCKET } : {}),
          ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
          ...(env.KUMO_STORAGE_ENDPOINT ? { endpoint: env.KUMO_STORAGE_ENDPOINT } : {}),
        }),
        clock: wallClock,
        logger,
      })
    : new HttpWorkerAgent({
        controlUrl: env.KUMO_CONTROL_URL ?? '',
        token: env.KUMO_WORKER_TOKEN ?? '',
        pool: env.KUMO_POOL,
        id: env.KUMO_WORKER_NAME,
        slots: env.KUMO_SLOTS,
        drainMs: env.KUMO_DRAIN_MS,
        ...taskHost,
        artifactsDir: env.KUMO_ARTIFACTS_DIR,
        clock: wallClock,
        logger,
      });
  let exiting = false;
  let started: Promise<void> = Promise.resolve();
  async function shutdown(why: string, handBackNow: boolean): Promise<void> {
    if (exiting) return;
    exiting = true;
    logger.info({ why, handBackNow }, 'worker shutting down');
    const deadline = setTimeout(() => {
      logger.error('worker shutdown passed its deadline; exiting');
      process.exit(1);
    }, env.KUMO_DRAIN_MS + 25_000);
    deadline.unref();
    await watcher?.stop();
    // A stop while start() is still connecting would find the agent idle and close its connections
    // under it: let the start finish (or fail) first.
    await started.catch(() => undefined);
    await agent.stop({ handBackNow });
    await bus?.close();
    guard?.remove();
    process.exit(0);
  }
  process.on('SIGTERM', () => {
    void (async () => {
      // On a spot VM, SIGTERM usually means preemption (~30 s to power-off), when a drain would only
      // spend the grace time: ask the metadata server before choosing. Otherwise (a deploy, a
      // scale-down, no answer within a second) drain, so running tasks may finish.
      const preempted = !exiting && watcher ? (await watcher.check(1000)) === true : false;
      await shutdown(preempted ? 'SIGTERM (preempted)' : 'SIGTERM', preempted);
    })();
  });
  process.on('SIGINT', () => void shutdown('SIGINT', false));
  onParentGone = () => void shutdown('parent gone', true);
  if (parentGone) {
    onParentGone();
    return;
  }
  started = agent.start();
  await started;
  watcher?.start();
}

runMain('worker', main);
