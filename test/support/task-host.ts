import { machineEnvironment } from '@kumo/shared';
import { DEFAULT_SANDBOX_SETTINGS, TaskSandbox } from '@kumo/worker';

let sandbox: TaskSandbox | undefined;

/**
 * What a worker agent (or the task runner) built in a test runs command tasks with, as a worker's
 * `main` would build it from an environment that sets nothing: the default sandbox (isolated wherever
 * this host can isolate) and the test machine's variables a task may see. One sandbox a test process,
 * as one a worker process: its host probe runs once.
 */
export function taskHost(): { sandbox: TaskSandbox; machineEnv: Record<string, string> } {
  sandbox ??= new TaskSandbox(DEFAULT_SANDBOX_SETTINGS);
  return { sandbox, machineEnv: machineEnvironment(process.env) };
}
