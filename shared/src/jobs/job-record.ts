import { jobSpecSchema, type JobKind, type JobSpec } from '../catalog/index';
import { jobHashView, type JobHash } from './job-hash';
import type { JobState } from './job-state';
import { computeProgress, type Progress, type ProgressInputs } from './progress';
import type { RerunOf } from './task-presets';

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
  /** The job whose tasks this one reruns (POST /v1/jobs/:id/rerun). */
  rerunOf?: string;
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
  /** A rerun: the ended job whose tasks it runs (`spec` is that job's, patched), and which of them. */
  rerun?: RerunOf;
}

export { JOB_HASH_FIELDS, type JobHash, type JobHashField, type JobHashView } from './job-hash';

const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));

/** The counts progress is computed from (the rate buckets live apart, in `Keys.jobRate`). */
export type ProgressCounts = Omit<ProgressInputs, 'now' | 'buckets'>;

/**
 * The hash counts the tasks preset done at creation (`skipped`) among `succeeded`, and `total` spans every
 * task index; a rerun's left-out tasks (`excluded`, part of `skipped`) are not its tasks at all. Progress
 * shows the job's own tasks: total less the left-out, succeeded less the preset, the skipped apart.
 */
function progressCountsOf(h: JobHash): ProgressCounts {
  const startedAt = num(h.startedAt);
  const finishedAt = num(h.finishedAt);
  const preset = Number(h.skipped ?? 0);
  const excluded = Number(h.excluded ?? 0);
  return {
    total: Number(h.total ?? 0) - excluded,
    succeeded: Number(h.succeeded ?? 0) - preset,
    skipped: preset - excluded,
    failed: Number(h.failed ?? 0),
    running: Number(h.running ?? 0),
    unit: h.unit ?? 'tasks',
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    costUsd: Number(h.costUsd ?? 0),
  };
}

/** A job's task counts and spend: what sizing, feeding, folding and finding lost tasks weigh. */
export interface TaskCounts {
  total: number;
  fed: number;
  succeeded: number;
  failed: number;
  running: number;
  costUsd: number;
}

function taskCountsOf(h: JobHash): TaskCounts {
  const n = (v: string | undefined): number => Number(v ?? 0);
  return {
    total: n(h.total),
    fed: n(h.fed),
    succeeded: n(h.succeeded),
    failed: n(h.failed),
    running: n(h.running),
    costUsd: n(h.costUsd),
  };
}

/** The counts of a job and where it runs (never its spec). */
export interface JobCounts extends TaskCounts {
  state: JobState;
  pool: string;
  finishedAt: number | undefined;
  /** Tasks preset done at creation (a skip, a rerun's left-out ones), counted in `succeeded`: they never ran. */
  preset: number;
}

/** What the feeder and the autoscaler weigh: the counts, the gates (dependencies, canary, budget), fair share. */
export interface JobFeed extends TaskCounts {
  state: JobState;
  user: string;
  priority: number;
  maxCostUsd: number | undefined;
  /** Tasks that must all succeed before the rest are fed (the first N to run, preset ones aside); 0 for none. */
  canary: number;
  /** The index the canary's feed ends at: `canary`, or further on past the preset tasks among them. */
  canaryEnd: number;
  /** Jobs it waits for, until they have all succeeded (`depsMet`). */
  deps: string[] | undefined;
  depsMet: boolean;
  /** Tasks preset done at creation (a skip, a rerun's left-out ones), counted in `succeeded`: they never ran, and cost nothing. */
  preset: number;
}

/** The typed views of the job hash: every read of it outside JobStore.get goes through one of these. */
export const jobViews = {
  state: jobHashView(['state'], (h) => h.state),
  owner: jobHashView(['pool', 'user'], (h) => ({ pool: h.pool ?? '', user: h.user ?? '' })),
  checkpoint: jobHashView(['checkpoint'], (h) =>
    h.checkpoint ? (JSON.parse(h.checkpoint) as { step: number; uri?: string }) : undefined,
  ),
  /** What GET /v1/jobs filters on. */
  listed: jobHashView(['state', 'kind', 'pool', 'user'], (h) => ({
    state: h.state,
    kind: h.kind ?? '',
    pool: h.pool ?? '',
    user: h.user ?? '',
  })),
  runtime: jobHashView(['state', 'pool', 'priority', 'user', 'total', 'fed', 'spec'], (h) => ({
    state: h.state,
    pool: h.pool ?? '',
    priority: Number(h.priority),
    user: h.user ?? '',
    total: Number(h.total),
    fed: Number(h.fed),
    spec: jobSpecSchema.parse(JSON.parse(h.spec ?? '{}')),
  })),
  counts: jobHashView(
    ['state', 'pool', 'total', 'fed', 'succeeded', 'failed', 'running', 'costUsd', 'finishedAt', 'skipped'],
    (h): JobCounts => ({
      ...taskCountsOf(h),
      state: h.state,
      pool: h.pool ?? '',
      finishedAt: h.finishedAt ? Number(h.finishedAt) : undefined,
      preset: Number(h.skipped ?? 0),
    }),
  ),
  feed: jobHashView(
    [
      'state',
      'fed',
      'total',
      'priority',
      'user',
      'succeeded',
      'failed',
      'running',
      'costUsd',
      'maxCostUsd',
      'canary',
      'canaryEnd',
      'deps',
      'depsMet',
      'skipped',
    ],
    (h): JobFeed => ({
      ...taskCountsOf(h),
      state: h.state,
      user: h.user ?? '',
      priority: Number(h.priority),
      maxCostUsd: h.maxCostUsd === undefined ? undefined : Number(h.maxCostUsd),
      canary: Number(h.canary ?? 0),
      // A job made before canaryEnd was kept, with tasks skipped: where its canary ends is unknown, so it holds nothing back.
      canaryEnd: Number(h.canaryEnd ?? (Number(h.skipped ?? 0) > 0 ? h.total : h.canary) ?? 0),
      deps: h.deps ? (JSON.parse(h.deps) as string[]) : undefined,
      depsMet: h.depsMet === '1',
      preset: Number(h.skipped ?? 0),
    }),
  ),
  /** What the autoscaler plans a gang's VMs from: ranks left, whether it may start, its spec. */
  gang: jobHashView(['state', 'total', 'succeeded', 'failed', 'deps', 'depsMet', 'spec'], (h) => ({
    state: h.state,
    unfinished: Number(h.total ?? 0) - Number(h.succeeded ?? 0) - Number(h.failed ?? 0),
    depsMet: !h.deps || h.depsMet === '1',
    spec: h.spec ? jobSpecSchema.parse(JSON.parse(h.spec)) : undefined,
  })),
  /** The small fields of a job and its progress counts, never its spec (which may be near 1 MiB). */
  summary: jobHashView(
    [
      'name',
      'kind',
      'user',
      'pool',
      'state',
      'total',
      'succeeded',
      'failed',
      'running',
      'unit',
      'startedAt',
      'finishedAt',
      'costUsd',
      'skipped',
      'excluded',
    ],
    (h) => ({
      name: h.name ?? '',
      kind: h.kind ?? '',
      user: h.user ?? '',
      pool: h.pool ?? '',
      state: h.state,
      counts: progressCountsOf(h),
    }),
  ),
};

/** The whole job hash (HGETALL) and its rate buckets, read as the JobRecord the API answers with. */
export function jobRecordOf(h: JobHash, buckets: number[], now: number): JobRecord {
  const counts = progressCountsOf(h);
  const progress = computeProgress({ ...counts, now, buckets });
  const maxCostUsd = num(h.maxCostUsd);
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
    ...(counts.startedAt !== undefined ? { startedAt: iso(counts.startedAt) } : {}),
    ...(counts.finishedAt !== undefined ? { finishedAt: iso(counts.finishedAt) } : {}),
    spec: JSON.parse(h.spec ?? '{}') as JobSpec,
    progress,
    costUsd: progress.costUsd,
    forecastCostUsd: progress.forecastCostUsd,
    budget: maxCostUsd === undefined ? null : { maxCostUsd },
    handBacks: Number(h.released ?? 0),
    checkpoint: h.checkpoint ? (JSON.parse(h.checkpoint) as Record<string, unknown>) : null,
    liveProgress: h.liveProgress ? (JSON.parse(h.liveProgress) as Record<string, unknown>) : null,
    ...(h.rerunOf ? { rerunOf: h.rerunOf } : {}),
    ...(h.deps ? { dependsOn: JSON.parse(h.deps) as string[] } : {}),
    ...(h.waitingOn ? { waitingOn: h.waitingOn } : {}),
  };
}
