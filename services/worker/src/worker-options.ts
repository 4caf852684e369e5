import type { ArtifactStore, Bus, Clock, Logger } from '@kumo/shared';

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
  /** Where each command task's log (its last 8 KiB) is kept, per attempt. None: logs live only as failure tails. */
  artifacts?: ArtifactStore;
  /** Where other VMs reach this one: a gang's rank 0 gives it to its peers as MASTER_ADDR. */
  addr?: string;
  clock: Clock;
  logger: Logger;
}
