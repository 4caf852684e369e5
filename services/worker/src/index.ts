export { WorkerAgent, type WorkerAgentOptions, type WorkerState } from './worker-agent';
export { metadataUrlOf, parseWorkerEnv, type WorkerEnv } from './env';
export { CHECKPOINT_PREFIX, PROGRESS_PREFIX, RESULT_PREFIX, runTask, TaskFailure } from './task-runner';
export { deleteGuardRules, GUARD_COMMENT_PREFIX } from './sandbox/network-guard';
export { DEFAULT_SANDBOX_SETTINGS, TaskSandbox } from './sandbox/task-sandbox';
export { HttpWorkerAgent } from './http-worker-agent';
export { PreemptionWatcher } from './preemption-watcher';
