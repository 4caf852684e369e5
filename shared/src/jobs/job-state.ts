/**
 * A job's life. States are moved only by the store's Lua scripts (create-job, apply-task-events,
 * cancel-job), which check this table's rules atomically in Redis; this file is their documentation
 * in code and what the TypeScript side checks against.
 *
 *   queued ──► running ──► succeeded
 *     │           ├──────► failed      (more tasks failed for good than failurePolicy.maxFailedTasks)
 *     ├───────────┴──────► cancelled   (POST /v1/jobs/:id/cancel)
 *     └──► budget_exhausted ◄──┘       (the next task would cross budget.maxCostUsd: feeding pauses,
 *              │  ▲                      tasks in flight finish; a raised budget resumes it)
 *              └──┴──► running | succeeded | failed | cancelled
 */
export type JobState = 'queued' | 'running' | 'budget_exhausted' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'budget_exhausted', 'succeeded', 'failed', 'cancelled'];
/** States in which a job's tasks may still run and be counted. */
export const LIVE_JOB_STATES: readonly JobState[] = ['queued', 'running', 'budget_exhausted'];
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

export const JOB_TRANSITIONS: Record<JobState, readonly JobState[]> = {
  queued: ['running', 'budget_exhausted', 'succeeded', 'failed', 'cancelled'],
  running: ['budget_exhausted', 'succeeded', 'failed', 'cancelled'],
  budget_exhausted: ['running', 'succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function isTerminal(state: JobState): boolean {
  return TERMINAL_JOB_STATES.has(state);
}
