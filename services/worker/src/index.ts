export { WorkerAgent, type WorkerAgentOptions, type WorkerState } from './worker-agent';
export { parseWorkerEnv, type WorkerEnv } from './env';
export { runTask } from './task-runner';
export { deleteGuardRules, GUARD_COMMENT_PREFIX } from './sandbox/network-guard';
export { DEFAULT_SANDBOX_SETTINGS, TaskSandbox } from './sandbox/task-sandbox';
