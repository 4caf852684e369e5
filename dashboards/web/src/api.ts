import { getToken } from './token';
import type { CheckpointEvaluation, Contributor, Job, JobPage, Pool, TaskFailure, TaskResult } from './types';

/** An answer other than 2xx, carrying the API's `{error: {code, message}}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get unauthenticated(): boolean {
    return this.status === 401;
  }
}

/** Every data call carries the token; the static files are the only things fetched without one. */
export function authHeaders(token = getToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function call<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  opts: { token?: string; signal?: AbortSignal; body?: unknown } = {},
): Promise<T> {
  let res: Response;
  const json = opts.body !== undefined;
  try {
    res = await fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...(json ? { 'content-type': 'application/json' } : {}),
        ...authHeaders(opts.token ?? getToken()),
      },
      ...(json ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'cannot reach the kumo API');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

/** One month's spend grouped by user, pool or job (GET /v1/spend). */
export interface SpendReport {
  month: string;
  by: 'user' | 'pool' | 'job';
  rows: { name: string; costUsd: number }[];
  totalUsd: number;
  teamMaxCostUsd: number | null;
}

export interface JobFilters {
  state?: string;
  kind?: string;
  pool?: string;
  user?: string;
}

export const api = {
  listJobs(filters: JobFilters, cursor?: string, limit = 50, signal?: AbortSignal): Promise<JobPage> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    return call('GET', `/v1/jobs?${q}`, signal ? { signal } : {});
  },
  getJob: (id: string): Promise<Job> => call('GET', `/v1/jobs/${encodeURIComponent(id)}`),
  /** cancel, pause or resume (POST /v1/jobs/:id/<action>); answers the job after it. */
  jobAction: (id: string, action: 'cancel' | 'pause' | 'resume'): Promise<Job> =>
    call('POST', `/v1/jobs/${encodeURIComponent(id)}/${action}`),
  /** POST /v1/jobs/:id/rerun: a new job of the ended job's failed or unfinished tasks. */
  rerun: (id: string, tasks: 'failed' | 'unfinished'): Promise<Job> =>
    call('POST', `/v1/jobs/${encodeURIComponent(id)}/rerun`, { body: { tasks } }),
  /** DELETE /v1/jobs/:id: an ended job and everything kept of it, its task logs too. */
  deleteJob: (id: string): Promise<void> => call('DELETE', `/v1/jobs/${encodeURIComponent(id)}`),
  contributors: async (id: string): Promise<Contributor[]> =>
    (await call<{ contributors: Contributor[] }>('GET', `/v1/jobs/${encodeURIComponent(id)}/contributors`))
      .contributors,
  failedTasks: async (id: string): Promise<TaskFailure[]> =>
    (await call<{ tasks: TaskFailure[] }>('GET', `/v1/jobs/${encodeURIComponent(id)}/tasks`)).tasks,
  results: async (id: string): Promise<TaskResult[]> =>
    (await call<{ results: TaskResult[] }>('GET', `/v1/jobs/${encodeURIComponent(id)}/results`)).results,
  evaluations: async (id: string): Promise<CheckpointEvaluation[]> =>
    (await call<{ evaluations: CheckpointEvaluation[] }>('GET', `/v1/jobs/${encodeURIComponent(id)}/evaluations`))
      .evaluations,
  spend: (by: SpendReport['by']): Promise<SpendReport> => call('GET', `/v1/spend?by=${by}`),
  pools: async (): Promise<Pool[]> => (await call<{ pools: Pool[] }>('GET', '/v1/pools')).pools,
  /** Checks a token before it is stored: the cheapest call any reader may make. */
  checkToken: (token: string): Promise<JobPage> => call('GET', '/v1/jobs?limit=1', { token }),
};
