import type { ArtifactStore, Bus, Clock, Logger } from '@kumo/shared';
import type { ContainerRuntime } from './sandbox/containers';
import type { TaskSandbox } from './sandbox/task-sandbox';

/** How a Redis-side worker agent is set up (its env.ts and main.ts fill it from the environment). */
export interface WorkerAgentOptions {
  redisUrl: string;
  prefix: string;
  bus: Bus;
  pool: string;
  /** Unique: the VM or process name. */
  id: string;
  /** Tasks at once. */
  slots: number;
  lockMs: number;
  drainMs: number;
  heartbeatMs: number;
  /** Local folder for what tasks write through kumo's contracts (training checkpoints). Default .kumo/artifacts. */
  artifactsDir?: string;
  /** Where each command task's whole log is kept, per attempt. None: logs live only as failure tails. */
  artifacts?: ArtifactStore;
  /** The most bytes of one attempt's log kept (the tail, with a marker where it was cut). Default 16 MiB. */
  logMaxBytes?: number;
  /** Where command tasks run: one per process (its uid range and scratch folder are the host's), built by `main` from its environment. */
  sandbox: TaskSandbox;
  /** Where image tasks run (this worker's containers). Default: this machine's docker, under this worker's name. */
  containers?: ContainerRuntime;
  /** The machine's variables a task may see (`machineEnvironment` of the environment `main` was started with). */
  machineEnv: Record<string, string>;
  /** Where other VMs reach this one: a gang's rank 0 gives it to its peers as MASTER_ADDR. */
  addr?: string;
  clock: Clock;
  logger: Logger;
}
