/**
 * A job's life. States are moved only by the store's Lua scripts (create-job, apply-task-events,
 * cancel-job), which check this table's rules atomically in Redis; this file is their documentation
 * in code and what the TypeScript side checks against.
 *
 *   queued ──► running ──► succeeded
 *     │           ├──────► failed      (more tasks failed for good than failurePolicy.maxFailedTasks)
 *     └───────────┴──────► cancelled   (POST /v1/jobs/:id/cancel)
 */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

export const JOB_TRANSITIONS: Record<JobState, readonly JobState[]> = {
  queued: ['running', 'succeeded', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function isTerminal(state: JobState): boolean {
  return TERMINAL_JOB_STATES.has(state);
}
