import type { Clock, Logger } from '@kumo/shared';
import type { ContainerRuntime } from './sandbox/containers';
import type { TaskSandbox } from './sandbox/task-sandbox';

/** What an HttpWorkerAgent is given: kept apart from the agent, as WorkerAgentOptions is (worker-options.ts). */
export interface HttpWorkerOptions {
  /** The API, e.g. https://kumo.example.org */
  controlUrl: string;
  /** A worker token scoped to `pool` (POST /v1/tokens {role: 'worker', pool}). */
  token: string;
  pool: string;
  id: string;
  slots: number;
  drainMs: number;
  /** Where command tasks run, and the machine's variables they may see (see WorkerAgentOptions). */
  sandbox: TaskSandbox;
  containers?: ContainerRuntime;
  machineEnv: Record<string, string>;
  /** Where training checkpoints go on this machine. */
  artifactsDir?: string;
  clock: Clock;
  logger: Logger;
  /** The most bytes of one attempt's log kept (the tail); the log goes through the API. Default 16 MiB. */
  logMaxBytes?: number;
  /** Wait between lease calls that found nothing. Default 1 s. */
  idlePollMs?: number;
}
