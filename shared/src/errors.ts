/**
 * Typed errors with stable codes. Callers branch on `code` and `retryable`, never on message text.
 * Every code kumo can produce is listed here once, with its HTTP status for the API.
 */
export const ERROR_CODES = {
  INVALID_INPUT: { status: 400, retryable: false },
  INVALID_JSON: { status: 400, retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false },
  UNAUTHENTICATED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  // A task's log was asked for, and the task never ran (no attempt started).
  TASK_NOT_RUN: { status: 404, retryable: false },
  JOB_NOT_FOUND: { status: 404, retryable: false },
  POOL_NOT_FOUND: { status: 404, retryable: false },
  TOKEN_NOT_FOUND: { status: 404, retryable: false },
  CONFLICT: { status: 409, retryable: false },
  JOB_ALREADY_FINISHED: { status: 409, retryable: false },
  IDEMPOTENCY_KEY_REUSED: { status: 409, retryable: false },
  // POST /v1/jobs/:id/rerun or DELETE /v1/jobs/:id of a job still live (queued, running, paused, ...).
  JOB_NOT_ENDED: { status: 409, retryable: false },
  // DELETE /v1/jobs/:id of a job that ended (cancelled) while tasks of it are still being stopped.
  JOB_STOPPING: { status: 409, retryable: true },
  // A delete of a job that live jobs still wait on (dependsOn): deleted, it would fail them.
  JOB_HAS_DEPENDENTS: { status: 409, retryable: false },
  // POST /v1/jobs/:id/rerun: none of the job's tasks is of the kind asked for (failed, unfinished).
  NOTHING_TO_RERUN: { status: 400, retryable: false },
  // A rerun of a listing job whose stored lines are no longer kept (LISTING_KEPT_DAYS after its end).
  LISTING_EXPIRED: { status: 409, retryable: false },
  BODY_TOO_LARGE: { status: 413, retryable: false },
  RATE_LIMITED: { status: 429, retryable: true },
  NOT_READY: { status: 503, retryable: true },
  // The artifact store (task logs) failed a request: nothing was changed that cannot be asked again.
  ARTIFACT_STORE_UNAVAILABLE: { status: 503, retryable: true },
  INTERNAL: { status: 500, retryable: true },
  // A job's source.listing (a WARC path listing read at submit). All are answers to what was
  // submitted, hence 400s (never a 500 for bad input); LISTING_UNREADABLE is retryable per instance
  // when the listing's server failed (a 5xx, a timeout, a reset), not when it said no (404, 403).
  LISTING_UNREADABLE: { status: 400, retryable: false },
  LISTING_INVALID: { status: 400, retryable: false },
  LISTING_NOT_ALLOWED: { status: 400, retryable: false },
  // Task outcomes (not HTTP-facing; carried in task failure records).
  TASK_EXIT_NONZERO: { status: 500, retryable: true },
  TASK_TIMEOUT: { status: 500, retryable: true },
  TASK_SPAWN_FAILED: { status: 500, retryable: false },
  TASK_INVALID: { status: 500, retryable: false },
  TASK_CANCELLED: { status: 500, retryable: false },
  // The worker cannot isolate a command task (not root, no namespaces) and the admin did not opt in.
  TASK_ISOLATION_UNAVAILABLE: { status: 500, retryable: false },
  // A local folder the spec named that kumo will not hand to a task (a symlink, someone else's).
  TASK_PATH_REFUSED: { status: 500, retryable: false },
  INFRA_LOST: { status: 500, retryable: true },
  INFRA_BUDGET_EXHAUSTED: { status: 500, retryable: false },
  // A gang rank whose gang cannot meet again: another rank already finished for good.
  GANG_INCOMPLETE: { status: 500, retryable: false },
  // Cloud provider outcomes.
  ZONE_RESOURCE_POOL_EXHAUSTED: { status: 503, retryable: true },
  QUOTA_EXCEEDED: { status: 429, retryable: true },
  PROVIDER_UNAVAILABLE: { status: 503, retryable: true },
  PROVIDER_REJECTED: { status: 400, retryable: false },
  // Start-up and configuration.
  CONFIG_INVALID: { status: 500, retryable: false },
  REDIS_UNSAFE: { status: 500, retryable: false },
  REDIS_BINARY_MISSING: { status: 500, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorIssue {
  path: (string | number)[];
  message: string;
}

export class KumoError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly status: number;
  readonly issues: ErrorIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { issues?: ErrorIssue[]; retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KumoError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = opts.retryable ?? ERROR_CODES[code].retryable;
    this.issues = opts.issues;
    this.details = opts.details;
  }

  toJSON(): { code: ErrorCode; message: string; issues?: ErrorIssue[] } {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
}

export function isKumoError(err: unknown): err is KumoError {
  return err instanceof KumoError;
}
