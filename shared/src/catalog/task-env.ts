import { taskCount, taskInputs, type JobSpec } from './index';

/** What a task's environment is made of, wherever it runs (a Redis-side worker, an HTTPS worker). */
export interface TaskEnvInput {
  jobId: string;
  spec: JobSpec;
  index: number;
  attempt: number;
  workerId: string;
  /** Training: where checkpoints go on this machine, and the last one recorded ('' for none). */
  checkpointDir?: string;
  resumeFrom?: string;
  /** The task's inputs when they live in the store, not the spec (a listing job: see listedInputRange). */
  inputs?: string[];
  /** A gang's rank, once its ranks have met: where each rank runs, by rank (see gangOf). */
  gang?: GangPlacement;
}

export interface GangPlacement {
  rank: number;
  /** Each rank's address, by rank; rank 0's is where the trainer's rendezvous listens. */
  hosts: string[];
  port: number;
}

/**
 * A gang rank's variables: kumo's own, and the ones torchrun and torch.distributed read
 * (`torchrun --nnodes $NNODES --node_rank $NODE_RANK --master_addr $MASTER_ADDR --master_port $MASTER_PORT`).
 */
function gangEnvironment(g: GangPlacement): Record<string, string> {
  return {
    KUMO_GANG_SIZE: String(g.hosts.length),
    KUMO_GANG_RANK: String(g.rank),
    KUMO_GANG_HOSTS: JSON.stringify(g.hosts),
    NNODES: String(g.hosts.length),
    NODE_RANK: String(g.rank),
    MASTER_ADDR: g.hosts[0]!,
    MASTER_PORT: String(g.port),
  };
}

/** The variables of the machine a task may see: never the worker's own secrets (tokens, Redis URL). */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'USER'];

/**
 * The machine's own variables a task may see (PATH, HOME, ...), nothing else of the worker's. The
 * caller names the environment (a service's `main` passes its own): nothing below `main` reads
 * `process.env`.
 */
export function machineEnvironment(machineEnv: NodeJS.ProcessEnv): Record<string, string> {
  const pass: Record<string, string> = {};
  for (const k of PASSED_THROUGH) if (machineEnv[k]) pass[k] = machineEnv[k]!;
  return pass;
}

/**
 * The documented task contract (docs/task-contract.md): the machine's variables a task may
 * see, the spec's env, the kind's own variables, and kumo's KUMO_* ones. One function, so every kind of
 * worker gives tasks the same.
 */
export function taskEnvironment(t: TaskEnvInput, machineEnv: NodeJS.ProcessEnv): Record<string, string> {
  const { inputs, env } = taskInputs(t.spec, t.index, t.inputs);
  const pass = machineEnvironment(machineEnv);
  const outputPrefix =
    'output' in t.spec && t.spec.output ? `${t.spec.output.prefix.replace(/\/$/, '')}/task-${t.index}` : '';
  return {
    ...pass,
    ...t.spec.env,
    ...env,
    KUMO_JOB_ID: t.jobId,
    KUMO_JOB_KIND: t.spec.kind,
    KUMO_TASK_INDEX: String(t.index),
    KUMO_TASK_COUNT: String(taskCount(t.spec)),
    KUMO_TASK_ATTEMPT: String(t.attempt),
    KUMO_TASK_INPUTS: JSON.stringify(inputs),
    KUMO_OUTPUT_PREFIX: outputPrefix,
    KUMO_WORKER_ID: t.workerId,
    ...(t.spec.kind === 'training'
      ? { KUMO_CHECKPOINT_DIR: t.spec.checkpoint.uri ?? t.checkpointDir ?? '', KUMO_RESUME_FROM: t.resumeFrom ?? '' }
      : {}),
    ...(t.gang ? gangEnvironment(t.gang) : {}),
  };
}
