import type { JobKind, JobSpec } from '../catalog/index';
import type { JobState } from './job-state';
import { computeProgress, type Progress } from './progress';

export interface JobRecord {
  id: string;
  kind: JobKind;
  name: string;
  pool: string;
  user: string;
  state: JobState;
  priority: number;
  /** Why the job is in its state, when that needs saying (`TOO_MANY_FAILED_TASKS`, `cancelled by alice`). */
  reason?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  spec: JobSpec;
  progress: Progress;
  /** The same as progress.costUsd and progress.forecastCostUsd, at the top for lists and scripts. */
  costUsd: number;
  forecastCostUsd: number | null;
  budget: { maxCostUsd: number } | null;
  /** Attempts handed back to the queue without using an attempt (preemption, drain, cancel). */
  handBacks: number;
  /** The furthest checkpoint a task recorded (training): step, tokens, uri. */
  checkpoint: Record<string, unknown> | null;
  /** The latest `::kumo::progress` a running task printed (training: step, tokens). */
  liveProgress: Record<string, unknown> | null;
  /** Jobs it waits for; set while they have not all succeeded. */
  dependsOn?: string[];
  waitingOn?: string;
}

/** What the feeder and the worker need of a job, without computing progress. */
export interface JobRuntime {
  id: string;
  pool: string;
  state: JobState;
  priority: number;
  user: string;
  total: number;
  fed: number;
  spec: JobSpec;
}

export interface TaskFailure {
  index: number;
  attempt: number;
  final: boolean;
  /** Failed on this many different workers: the input is at fault, so it is not retried. */
  quarantined?: boolean;
  /** The workers it failed on. */
  workers?: string[];
  worker: string;
  at: string;
  error: { code: string; message: string; retryable: boolean };
  logTail: string;
}

export interface ListJobsQuery {
  state?: JobState;
  kind?: JobKind;
  pool?: string;
  user?: string;
  limit: number;
  /** The last id of the previous page. */
  cursor?: string;
}

export interface CreateJobInput {
  spec: JobSpec;
  user: string;
  idempotencyKey?: string;
  idempotencyScope?: string;
  /** A listing job's lines (source.listing), in order; `spec.source.batches` is their count. */
  listing?: readonly string[];
  /** What the idempotency key is bound to; default the spec. */
  fingerprintOf?: unknown;
}

/** The job hash (and its rate buckets) read as the JobRecord the API answers with. */
export function jobRecordOf(h: Record<string, string>, buckets: number[], now: number): JobRecord {
  const num = (k: string): number | undefined => (h[k] === undefined || h[k] === '' ? undefined : Number(h[k]));
  const startedAt = num('startedAt');
  const finishedAt = num('finishedAt');
  const maxCostUsd = num('maxCostUsd');
  const progress = computeProgress({
    total: Number(h.total ?? 0),
    succeeded: Number(h.succeeded ?? 0),
    failed: Number(h.failed ?? 0),
    running: Number(h.running ?? 0),
    unit: h.unit ?? 'tasks',
    now,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    buckets,
    costUsd: Number(h.costUsd ?? 0),
  });
  const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());
  return {
    id: h.id!,
    kind: h.kind as JobKind,
    name: h.name ?? '',
    pool: h.pool ?? '',
    user: h.user ?? '',
    state: h.state as JobState,
    priority: Number(h.priority ?? 50),
    ...(h.reason ? { reason: h.reason } : {}),
    createdAt: new Date(Number(h.createdAt)).toISOString(),
    ...(startedAt !== undefined ? { startedAt: iso(startedAt) } : {}),
    ...(finishedAt !== undefined ? { finishedAt: iso(finishedAt) } : {}),
    spec: JSON.parse(h.spec ?? '{}') as JobSpec,
    progress,
    costUsd: progress.costUsd,
    forecastCostUsd: progress.forecastCostUsd,
    budget: maxCostUsd === undefined ? null : { maxCostUsd },
    handBacks: Number(h.released ?? 0),
    checkpoint: h.checkpoint ? (JSON.parse(h.checkpoint) as Record<string, unknown>) : null,
    liveProgress: h.liveProgress ? (JSON.parse(h.liveProgress) as Record<string, unknown>) : null,
    ...(h.deps ? { dependsOn: JSON.parse(h.deps) as string[] } : {}),
    ...(h.waitingOn ? { waitingOn: h.waitingOn } : {}),
  };
}
