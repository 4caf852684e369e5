import { DEFAULT_SANDBOX_SETTINGS, TaskSandbox } from './task-sandbox';

/**
 * The sandbox command tasks run in when the caller names none: the one the worker's `main` configured
 * from its environment, else one with the defaults (isolated wherever the host can isolate). Kept
 * here, not threaded through every agent, because a process has exactly one: its tasks' uid range
 * and scratch folder are the host's, not an agent's.
 */
let current: TaskSandbox | undefined;

export function defaultTaskSandbox(): TaskSandbox {
  current ??= new TaskSandbox(DEFAULT_SANDBOX_SETTINGS);
  return current;
}

export function useTaskSandbox(sandbox: TaskSandbox): void {
  current = sandbox;
}
