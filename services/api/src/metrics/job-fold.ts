import type { Redis } from 'ioredis';
import {
  defineScript,
  jobViews,
  reply,
  TERMINAL_JOB_STATES,
  type Clock,
  type JobCounts,
  type Keys,
} from '@kumo/shared';

const foldJobs = defineScript(new URL('./lua/foldJobs-1.lua', import.meta.url), ['fold'], reply.done);

/** One job as the scan reads it: its counts (jobViews.counts), never the spec or progress buckets. */
export interface ScannedJob extends JobCounts {
  id: string;
}

/**
 * Totals keyed like the fold hash's fields: `jobs|<pool>|<state>` (jobs), `tasks|<pool>|succeeded` and
 * `tasks|<pool>|failed` (tasks finished), `cost|<pool>` (task-time USD).
 */
export type Tally = Map<string, number>;

export interface JobsView {
  /** Everything: folded jobs plus the scanned ones. */
  totals: Tally;
  /** Jobs read this time, from the watermark on (the cost of a scrape). */
  scanned: ScannedJob[];
  /** The scan stopped at its cap: totals miss the newest jobs (see JobFoldOptions.maxScan). */
  truncated: boolean;
}

export interface JobFoldOptions {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  /**
   * A job is folded this long after it ended (default 15 min). Until then it is still read, so a job
   * that just ended keeps its per-job series for the dashboards (its last value is the final one) and
   * late task events of a cancelled job still count. The watermark thus never passes a job id younger
   * than this, which also keeps it behind any job an API process is still inserting.
   */
  graceMs?: number;
  /** Most jobs read per scrape (default 100,000); beyond it totals are short and `truncated` says so. */
  maxScan?: number;
  /** Jobs read per round trip (default 1000). */
  page?: number;
}

/**
 * Job totals for /metrics without reading every job every scrape, and without touching the Lua scripts
 * that move job states. Job ids sort by creation time and a job that ended never changes again, so the
 * oldest run of ended jobs is folded into one Redis hash behind a watermark (a job id); a scrape reads
 * the hash and only the jobs after the watermark. Cost per scrape: the jobs created since the oldest job
 * still live (one long training job holds the watermark back; maxScan bounds that).
 *
 * The exact O(1) alternative: the job scripts (createJob, applyTaskEvents, endJob, holdJob) HINCRBY a
 * per-state count in the same atomic call that moves the state. That needs changes in the job scripts.
 */
export class JobFold {
  private readonly graceMs: number;
  private readonly maxScan: number;
  private readonly page: number;

  constructor(private readonly opts: JobFoldOptions) {
    this.graceMs = opts.graceMs ?? 15 * 60_000;
    this.maxScan = opts.maxScan ?? 100_000;
    this.page = opts.page ?? 1000;
  }

  async read(): Promise<JobsView> {
    const { redis, keys } = this.opts;
    const folded = await redis.hgetall(keys.metricsJobFold());
    const through = folded.through ?? '';
    const deleted = folded.deleted ?? '0';
    const totals: Tally = new Map();
    for (const [f, v] of Object.entries(folded)) if (f !== 'through' && f !== 'deleted') totals.set(f, Number(v));

    const { jobs, truncated } = await this.scan(through);
    const now = this.opts.clock.now();
    const delta: Tally = new Map();
    let foldTo = '';
    let folding = true;
    for (const j of jobs) {
      // Only an unbroken run from the watermark folds: the watermark is one id, not a set of them.
      folding &&= this.foldable(j, now);
      add(folding ? delta : totals, j);
      if (folding) foldTo = j.id;
    }
    for (const [f, v] of delta) totals.set(f, (totals.get(f) ?? 0) + v);
    if (foldTo) await this.fold({ through, deleted }, foldTo, delta);
    return { totals, scanned: jobs, truncated };
  }

  private foldable(j: ScannedJob, now: number): boolean {
    if (!TERMINAL_JOB_STATES.has(j.state)) return false;
    return j.finishedAt === undefined || now - j.finishedAt >= this.graceMs;
  }

  private async scan(through: string): Promise<{ jobs: ScannedJob[]; truncated: boolean }> {
    const { redis, keys } = this.opts;
    const jobs: ScannedJob[] = [];
    let min = through ? `(${through}` : '-';
    for (;;) {
      const ids = await redis.zrangebylex(
        keys.jobsIndex(),
        min,
        '+',
        'LIMIT',
        0,
        Math.min(this.page, this.maxScan - jobs.length),
      );
      if (ids.length === 0) return { jobs, truncated: false };
      const counts = await jobViews.counts.readMany(redis, keys, ids);
      // A job in the index without a record (removed by hand): nothing to count, but it may fold.
      ids.forEach((id, n) => jobs.push(counts[n] ? { id, ...counts[n] } : emptyJob(id)));
      min = `(${ids[ids.length - 1]}`;
      if (jobs.length >= this.maxScan) {
        const more = await redis.zrangebylex(keys.jobsIndex(), min, '+', 'LIMIT', 0, 1);
        return { jobs, truncated: more.length > 0 };
      }
    }
  }

  /**
   * Compare-and-set on the watermark and on the count of deleted jobs (a job deleted since this scrape
   * read it was added to the fold by its delete, deleteJob-17.lua): a lost race changes nothing, and this
   * scrape's totals are right either way.
   */
  private async fold(read: { through: string; deleted: string }, to: string, delta: Tally): Promise<boolean> {
    const args: (string | number)[] = [read.through, read.deleted, to];
    for (const [f, v] of delta) if (v !== 0) args.push(f, v);
    return foldJobs.run(this.opts.redis, { fold: this.opts.keys.metricsJobFold() }, args);
  }
}

function emptyJob(id: string): ScannedJob {
  return {
    id,
    pool: '',
    state: 'cancelled',
    total: 0,
    fed: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    costUsd: 0,
    finishedAt: undefined,
    preset: 0,
  };
}

function bump(t: Tally, field: string, by: number): void {
  t.set(field, (t.get(field) ?? 0) + by);
}

function add(t: Tally, j: ScannedJob): void {
  if (!j.pool) return;
  bump(t, `jobs|${j.pool}|${j.state}`, 1);
  // Tasks a skip preset done never ran: they are not finished work (kumo_tasks_finished_total).
  bump(t, `tasks|${j.pool}|succeeded`, j.succeeded - j.preset);
  bump(t, `tasks|${j.pool}|failed`, j.failed);
  bump(t, `cost|${j.pool}`, j.costUsd);
}
