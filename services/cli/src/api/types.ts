import type { paths } from '../generated/api';

type JsonBody<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** Derived from the generated OpenAPI types: a server change that breaks these breaks the typecheck. */
export type Job = JsonBody<paths['/v1/jobs/{id}']['get']['responses'][200]>;
export type Progress = Job['progress'];
export type JobState = Job['state'];
export type JobKind = Job['kind'];
export type ListJobsQuery = NonNullable<paths['/v1/jobs']['get']['parameters']['query']>;
export type JobSpecBody = paths['/v1/jobs']['post']['requestBody']['content']['application/json'];
export type CheckpointEvaluation = JsonBody<
  paths['/v1/jobs/{id}/evaluations']['get']['responses'][200]
>['evaluations'][number];

/*
 * The routes below declare no response schema on the server, so /openapi.json says nothing about their
 * bodies and the generated types cannot either. These are written by hand from the server's stores;
 * when a route gains a response schema, derive its type above instead.
 */

/** GET /v1/jobs */
export interface JobPage {
  jobs: Job[];
  nextCursor: string | null;
}

/** One row of GET /v1/jobs/:id/tasks: a task's last failed attempt. */
export interface TaskFailure {
  index: number;
  attempt: number;
  /** No attempts left (or not retryable): the task counts as failed. */
  final: boolean;
  worker: string;
  at: string;
  error: { code: string; message: string; retryable: boolean };
  logTail: string;
}

/** One pool of GET /v1/pools: its settings, the autoscaler's last decision, its VMs and workers. */
export interface PoolView {
  name: string;
  machineType: string;
  gpu: { type: string; count: number };
  spot: boolean;
  zones: string[];
  min: number;
  max: number;
  slotsPerVm: number;
  status: { desired: number; live: number; running: number; demand: number; reasons: string[] } | null;
  vms: unknown[];
  workers: unknown[];
}
