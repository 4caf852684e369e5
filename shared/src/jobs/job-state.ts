/**
 * A job's life. States are moved only by the store's Lua scripts (create-job, apply-task-events,
 * cancel-job), which check this table's rules atomically in Redis; this file is their documentation
 * in code and what the TypeScript side checks against.
 *
 *   queued ──► running ──► succeeded
 *     │           ├──────► failed      (more tasks failed for good than failurePolicy.maxFailedTasks)
 *     ├───────────┴──────► cancelled   (POST /v1/jobs/:id/cancel)
 *     └──► budget_exhausted ◄──┘       (the next task would cross budget.maxCostUsd: feeding pauses,
 *     │        │  ▲                      tasks in flight finish; a raised budget resumes it)
 *     │        └──┴──► running | succeeded | failed | cancelled
 *     └──► paused ◄──► running          (POST /v1/jobs/:id/pause and /resume: feeding stops, tasks
 *                                         in flight finish)
 * A job also fails from outside when a job it depends on fails or is cancelled.
 */
export type JobState = 'queued' | 'running' | 'paused' | 'budget_exhausted' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATES: readonly JobState[] = [
  'queued',
  'running',
  'paused',
  'budget_exhausted',
  'succeeded',
  'failed',
  'cancelled',
];
/** States in which a job's tasks may still run and be counted. */
export const LIVE_JOB_STATES: readonly JobState[] = ['queued', 'running', 'paused', 'budget_exhausted'];
/** Live states in which the feeder holds back (tasks already fed still run). */
export const HELD_JOB_STATES: readonly JobState[] = ['paused', 'budget_exhausted'];
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

export const JOB_TRANSITIONS: Record<JobState, readonly JobState[]> = {
  queued: ['running', 'paused', 'budget_exhausted', 'succeeded', 'failed', 'cancelled'],
  running: ['paused', 'budget_exhausted', 'succeeded', 'failed', 'cancelled'],
  paused: ['running', 'succeeded', 'failed', 'cancelled'],
  budget_exhausted: ['running', 'paused', 'succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function isTerminal(state: JobState): boolean {
  return TERMINAL_JOB_STATES.has(state);
}

/** The states that may move to `to` (what the hold script is told). */
export function statesMovingTo(to: JobState): JobState[] {
  return (Object.keys(JOB_TRANSITIONS) as JobState[]).filter((s) => JOB_TRANSITIONS[s].includes(to));
}
