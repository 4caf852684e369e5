/**
 * What a worker says about a task. Short field names: these go over the bus by the hundred thousand.
 * - `s`   started attempt `a`
 * - `ok`  succeeded (final)
 * - `f`   failed for good (final): attempts or the infrastructure budget are spent, or it cannot run
 * - `r`   this attempt failed, and the task will be retried
 * - `rel` handed back without using an attempt (preempted, draining, cancelled)
 * - `c`   the task wrote a checkpoint (`data`: step, tokens, uri)
 * - `p`   progress inside a long task (`data`: step, tokens, ...)
 * Applied idempotently: a task is final once (bitmap), and attempt numbers order the rest.
 */
export type TaskEventType = 's' | 'ok' | 'f' | 'r' | 'rel' | 'c' | 'p';

export interface TaskError {
  code: string;
  message: string;
  retryable: boolean;
}

export interface TaskEvent {
  t: TaskEventType;
  /** Job id. */
  j: string;
  /** Task index in the job, 0-based. */
  i: number;
  /** Attempt number, 1-based. */
  a: number;
  /** Worker id. */
  w: string;
  /**
   * Whose worker it is, for the contributors table: the token name of an HTTPS worker, set by the API
   * from the worker's token (never by the worker). Absent for kumo's own workers: their pool owns them.
   */
  o?: string;
  /** When it happened, worker clock, ms. */
  at: number;
  /** How long the attempt ran, ms (on the ends of an attempt: ok, f, r, rel); what its cost is reckoned from. */
  d?: number;
  err?: TaskError;
  /** The last lines the task printed (failures only). */
  log?: string;
  /** What the task reported with `::kumo::result` lines (counts, outputs, scores). */
  result?: Record<string, unknown>;
  /** The checkpoint (c) or progress (p) the task printed. */
  data?: Record<string, unknown>;
}
