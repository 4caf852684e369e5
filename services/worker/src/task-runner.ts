import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_REFERENCE, isKumoError, KumoError, type Clock, type RunSpec, type TaskError } from '@kumo/shared';
import { ContainerRuntime } from './sandbox/containers';
import { SYSTEM_PATH, type SandboxedTask, type TaskSandbox } from './sandbox/task-sandbox';
import { TaskOutput } from './task-output';

// The task contract's lines are read in task-output.ts; their prefixes are the worker's to export from here.
export { CHECKPOINT_PREFIX, PROGRESS_PREFIX, RESULT_PREFIX } from './task-output';

export interface TaskRunInput {
  run: RunSpec;
  env: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  clock: Clock;
  /** After SIGTERM to the task, how long before SIGKILL. */
  killGraceMs?: number;
  onProgress?: (data: Record<string, unknown>) => void;
  onCheckpoint?: (data: Record<string, unknown>) => void;
  /**
   * Every byte the task prints, stdout and stderr, as they arrive (its whole log; see TaskLogWriter). A
   * promise returned holds the task's output until it settles: neither stream is read meanwhile, so the
   * task blocks on its pipe and prints no faster than the log is stored.
   */
  onOutput?: (chunk: Buffer) => void | Promise<void>;
  /** Where command tasks run (their own uid, namespaces and scratch): the one the worker's `main` built from its environment. */
  sandbox: TaskSandbox;
  /** Where image tasks run. Default: this machine's docker, the containers labelled with the task's KUMO_WORKER_ID. */
  containers?: ContainerRuntime;
  /** What relative local paths in the spec mean (the worker's working directory). */
  baseDir?: string;
}

export interface TaskRunOutput {
  result?: Record<string, unknown>;
  logTail: string;
}

/** A task failure, with the log tail that goes with it. */
export class TaskFailure extends KumoError {
  constructor(
    code:
      | 'TASK_EXIT_NONZERO'
      | 'TASK_TIMEOUT'
      | 'TASK_SPAWN_FAILED'
      | 'TASK_INVALID'
      | 'TASK_CANCELLED'
      | 'GANG_INCOMPLETE'
      | 'TASK_ISOLATION_UNAVAILABLE'
      | 'TASK_PATH_REFUSED',
    message: string,
    readonly logTail: string,
  ) {
    super(code, message);
  }
}

export async function runTask(input: TaskRunInput): Promise<TaskRunOutput> {
  const { run } = input;
  if ('builtin' in run) {
    if (run.builtin === 'noop') return { logTail: '' };
    const timedOut = run.ms > input.timeoutMs;
    await input.clock.sleep(Math.min(run.ms, input.timeoutMs), input.signal);
    if (input.signal.aborted) throw new TaskFailure('TASK_CANCELLED', 'task stopped', '');
    if (timedOut) throw new TaskFailure('TASK_TIMEOUT', `task ran past its timeout of ${input.timeoutMs} ms`, '');
    return { logTail: '' };
  }
  if ('image' in run) return runImage(run.image, run.command ?? [], input);
  let place: SandboxedTask;
  try {
    place = await input.sandbox.open({
      jobId: input.env.KUMO_JOB_ID ?? 'unknown',
      argv: run.command,
      env: input.env,
      cwd: run.cwd,
      baseDir: input.baseDir ?? process.cwd(),
    });
  } catch (err) {
    if (isKumoError(err) && (err.code === 'TASK_ISOLATION_UNAVAILABLE' || err.code === 'TASK_PATH_REFUSED'))
      throw new TaskFailure(err.code, err.message, '');
    throw err;
  }
  try {
    return await runCommand(place, input);
  } finally {
    await place.close();
  }
}

/**
 * An image task: the agent runs docker for it (see ./sandbox/containers.ts). The docker CLI runs as
 * root, so it gets none of the task's environment (a spec's LD_PRELOAD, PATH or DOCKER_HOST would be the
 * CLI's): the task's variables reach the container through an env file only root can read, removed after.
 */
async function runImage(image: string, command: string[], input: TaskRunInput): Promise<TaskRunOutput> {
  if (!IMAGE_REFERENCE.test(image)) throw new TaskFailure('TASK_INVALID', `'${image}' is not an image reference`, '');
  const bad = Object.entries(input.env).find(([, v]) => /[\r\n]/.test(v));
  if (bad)
    throw new TaskFailure(
      'TASK_INVALID',
      `the environment variable ${bad[0]} holds a line break, which an image task cannot be given`,
      '',
    );
  const containers = input.containers ?? new ContainerRuntime(input.env.KUMO_WORKER_ID ?? 'unknown');
  const dir = await mkdtemp(join(tmpdir(), 'kumo-image-'));
  try {
    const envFile = join(dir, 'env');
    await writeFile(
      envFile,
      Object.entries(input.env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      { mode: 0o600 },
    );
    const name = containers.nameFor(input.env.KUMO_JOB_ID ?? 'job', Number(input.env.KUMO_TASK_INDEX ?? 0));
    const hostNetwork = Boolean(input.env.KUMO_GANG_SIZE);
    return await runCommand(
      {
        argv: containers.runArgv({ name, image, command, envFile, hostNetwork }),
        env: { PATH: SYSTEM_PATH },
        cwd: dir,
        // The CLI passes SIGTERM on to the container; a SIGKILL, past the grace, would reach only the CLI.
        kill: () => containers.kill(name),
      },
      input,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runCommand(
  place: Pick<SandboxedTask, 'argv' | 'env' | 'cwd'> & { kill?: () => Promise<void> },
  input: TaskRunInput,
): Promise<TaskRunOutput> {
  const { argv } = place;
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout or cancel also stops whatever the task started.
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: place.cwd,
      env: place.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const output = new TaskOutput(child, input);
    const tail = output.tail;
    let stopping: 'timeout' | 'abort' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'abort'): void => {
      if (stopping || child.exitCode !== null) return;
      stopping = why;
      signalGroup('SIGTERM');
      // What the task started outside its process group (an image task's container) goes first: the
      // task's end, which frees its slot, waits for it.
      killTimer = setTimeout(
        () => void (place.kill?.() ?? Promise.resolve()).finally(() => signalGroup('SIGKILL')),
        input.killGraceMs ?? 5000,
      );
    };
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => stop('timeout'), input.timeoutMs);
    const onAbort = (): void => stop('abort');
    input.signal.addEventListener('abort', onAbort, { once: true });
    if (input.signal.aborted) stop('abort');

    const finish = (): void => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      input.signal.removeEventListener('abort', onAbort);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish();
      reject(
        new TaskFailure('TASK_SPAWN_FAILED', `cannot start '${argv[0]}': ${err.code ?? err.message}`, tail.toString()),
      );
    });
    child.once('close', (code, signal) => {
      finish();
      const log = tail.toString();
      if (stopping === 'timeout')
        return reject(new TaskFailure('TASK_TIMEOUT', `task ran past its timeout of ${input.timeoutMs} ms`, log));
      if (stopping === 'abort') return reject(new TaskFailure('TASK_CANCELLED', 'task stopped', log));
      if (code === 0) return resolve({ ...(output.result ? { result: output.result } : {}), logTail: log });
      reject(new TaskFailure('TASK_EXIT_NONZERO', exitMessage(code, signal), log));
    });
  });
}

/** A task in its namespace ends through the init shell, which reports a signal as 128 + its number. */
function exitMessage(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `task killed by ${signal}`;
  const byShell =
    code !== null && code > 128 ? Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] : undefined;
  return byShell ? `task killed by ${byShell}` : `task exited with code ${code}`;
}

/** Any failure of a task run as the TaskError kumo records: its code and retryability, never parsed from text. */
export function toTaskError(err: unknown): TaskError {
  if (isKumoError(err)) return { code: err.code, message: err.message, retryable: err.retryable };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), retryable: true };
}
