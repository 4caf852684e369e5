import { listedInputRange, taskEnvironment, type JobSpec, type JobStore, type TaskError } from '@kumo/shared';

/** What an HTTPS worker gets for one leased task: everything it needs to run it, nothing of Redis. */
export interface LeasedTask {
  leaseId: string;
  jobId: string;
  index: number;
  attempt: number;
  kind: JobSpec['kind'];
  run: JobSpec['run'];
  /** The task's environment (the documented contract), without the machine's own variables. */
  env: Record<string, string>;
  timeoutMs: number;
  stopGraceMs: number;
  leaseSeconds: number;
}

export type LeaseOutcome =
  | { outcome: 'succeeded'; result?: Record<string, unknown> }
  | { outcome: 'failed'; error: TaskError; logTail?: string }
  | { outcome: 'released' };

/** A leased task's environment (the shared contract); a listing job's inputs are read from its stored listing. */
export async function leasedTaskEnv(
  jobs: Pick<JobStore, 'checkpoint' | 'listedInputs'>,
  t: { jobId: string; spec: JobSpec; index: number; attempt: number; workerId: string },
): Promise<Record<string, string>> {
  const { jobId, spec, index } = t;
  const resume = spec.kind === 'training' ? await jobs.checkpoint(jobId) : undefined;
  const range = listedInputRange(spec, index);
  const inputs = range ? await jobs.listedInputs(jobId, range.from, range.to) : undefined;
  return taskEnvironment(
    { ...t, resumeFrom: typeof resume?.uri === 'string' ? resume.uri : '', ...(inputs ? { inputs } : {}) },
    {},
  );
}

/**
 * `read`, called once per key however often it is asked: what one request's tasks share (a job's
 * state read afresh for the request, not once per task).
 */
export function oncePerKey<V>(read: (key: string) => Promise<V>): (key: string) => Promise<V> {
  const seen = new Map<string, Promise<V>>();
  return (key) => {
    let p = seen.get(key);
    if (!p) seen.set(key, (p = read(key)));
    return p;
  };
}
