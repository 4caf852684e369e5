import type { Redis } from 'ioredis';
import { gangOf } from '../catalog/index';
import { jobViews } from '../jobs/job-record';
import { Keys } from '../store/keys';
import type { VmRecord } from './fleet-store';

/** A gang training job of the pool that still has ranks to run. */
export interface GangNeed {
  jobId: string;
  size: number;
  /** Ranks not yet finished (each wants a VM of its own). */
  unfinished: number;
}

/** VMs to request together for one gang: all in one zone (`zones`: the zone its live VMs are in). */
export interface GangRequest {
  gang: string;
  count: number;
  zones?: string[];
}

export interface GangPlan {
  /** Unfinished ranks of the pool's gangs: the demand their VMs serve (not one VM per slot). */
  ranks: number;
  /** VMs the pool's gangs want in all, one per rank. */
  vms: number;
  /** What is missing, gang by gang, in the order the jobs were read. */
  requests: GangRequest[];
}

/** The pool's live gang jobs (queued or running, dependencies met) with ranks left. */
export async function gangNeeds(redis: Redis, prefix: string, pool: string): Promise<GangNeed[]> {
  const keys = new Keys(prefix);
  const ids = await redis.smembers(keys.poolActive(pool));
  if (ids.length === 0) return [];
  const jobs = await jobViews.gang.readMany(redis, keys, ids);
  const out: GangNeed[] = [];
  ids.forEach((jobId, i) => {
    const j = jobs[i];
    if (!j || (j.state !== 'queued' && j.state !== 'running') || !j.depsMet || !j.spec) return;
    const gang = gangOf(j.spec);
    if (gang && j.unfinished > 0) out.push({ jobId, size: gang.size, unfinished: j.unfinished });
  });
  return out.sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
}

/**
 * Each gang's missing VMs, asked for as one group so the walker places them in one zone. A gang with
 * VMs still up is completed in their zone (its ranks must stay together); one with none may go anywhere.
 */
export function planGangs(needs: readonly GangNeed[], live: readonly VmRecord[]): GangPlan {
  const plan: GangPlan = { ranks: 0, vms: 0, requests: [] };
  for (const need of needs) {
    plan.ranks += need.unfinished;
    plan.vms += need.size;
    const mine = live.filter((v) => v.gang === need.jobId);
    const missing = need.size - mine.length;
    if (missing <= 0) continue;
    const zone = mine.find((v) => v.zone)?.zone;
    plan.requests.push({ gang: need.jobId, count: missing, ...(zone ? { zones: [zone] } : {}) });
  }
  return plan;
}
