/**
 * The API's JSON shapes as the dashboard reads them. Written out here rather than imported from
 * `@kumo/shared`, whose index pulls in Node-only modules (ioredis, crypto) that cannot go into a
 * browser bundle. Fields the dashboard does not show are left out.
 */
// A job's states and their rules come from the one file that defines them (it imports nothing).
import { isTerminal, JOB_STATES, LIVE_JOB_STATES, type JobState } from '../../../shared/src/jobs/job-state';

export { isTerminal, JOB_STATES, type JobState };
export const JOB_KINDS = ['extraction', 'cleaning', 'training', 'evaluation'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface Progress {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  /** Tasks the spec's skip left out (done before the job started); absent from APIs older than skips. */
  skipped?: number;
  unit: string;
  percent: number;
  ratePerMinute: number;
  etaSeconds: number | null;
  estimatedCompletionAt: string | null;
  /** Spent so far (task time at the pool's price); absent from APIs older than costs. */
  costUsd?: number;
  forecastCostUsd?: number | null;
}

export interface Job {
  id: string;
  kind: JobKind;
  name: string;
  pool: string;
  user: string;
  state: JobState;
  priority: number;
  reason?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  spec: Record<string, unknown>;
  progress: Progress;
  budget?: { maxCostUsd: number } | null;
  /** Tasks handed back by workers that stopped (preempted, drained) before finishing them. */
  handBacks?: number;
  /** The job whose tasks this one reruns. */
  rerunOf?: string;
}

/** One row of GET /v1/jobs/:id/contributors. */
export interface Contributor {
  worker: string;
  /** The HTTPS worker's token name, or the pool for kumo's own workers. */
  owner: string;
  succeeded: number;
  failed: number;
  taskSeconds: number;
}

export interface JobPage {
  jobs: Job[];
  nextCursor: string | null;
}

export interface TaskFailure {
  index: number;
  attempt: number;
  final: boolean;
  worker: string;
  at: string;
  error: { code: string; message: string; retryable: boolean };
  logTail: string;
}

export interface TaskResult {
  index: number;
  result: Record<string, unknown>;
}

/** One evaluated checkpoint of a training job (GET /v1/jobs/:id/evaluations). */
export interface CheckpointEvaluation {
  step: number;
  jobId: string;
  /** The evaluation job's state ('unknown' if it is gone). */
  state: string;
  checkpoint: string;
  /** Benchmark -> the score its task reported; null until it has. */
  scores: Record<string, number | null>;
}

export interface PoolStatus {
  desired: number;
  live: number;
  running: number;
  demand: number;
  reasons: string[];
  costUsd?: number;
  hourlyUsd?: number;
  updatedAt: string;
}

export interface Vm {
  name: string;
  pool: string;
  state: string;
  zone?: string;
  reason?: string;
  spot?: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  stateAt: number;
}

export interface WorkerHeartbeat {
  id: string;
  pool: string;
  slots: number;
  running: number;
  idleSince?: number;
  /** Epoch milliseconds. */
  lastSeen: number;
  state: 'running' | 'draining';
}

export interface Pool {
  name: string;
  machineType: string;
  gpu: { type: string; count: number };
  spot: boolean;
  zones: string[];
  min: number;
  max: number;
  slotsPerVm: number;
  idleTimeoutSeconds: number;
  scaleUpBatch: number;
  scaleDownBatch: number;
  image?: string;
  labels: Record<string, string>;
  prices?: { spotPerHourUsd?: number; onDemandPerHourUsd?: number };
  fallbackToStandard?: boolean;
  maxHourlyUsd?: number;
  updatedAt: string;
  status: PoolStatus | null;
  vms: Vm[];
  workers: WorkerHeartbeat[];
}

/** States in which tasks may still run and be counted (paused ones too: tasks in flight finish): worth following live. */
export function isLive(state: JobState): boolean {
  return LIVE_JOB_STATES.includes(state);
}
