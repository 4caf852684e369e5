import { Counter, Gauge, type Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { JOB_STATES, TERMINAL_JOB_STATES, type Clock, type Keys } from '@kumo/shared';
import { HighWater } from './high-water';
import type { JobFold, JobsView, ScannedJob } from './job-fold';
import { readJobSummaries } from './job-summaries';

/** Per-job series are for the job dashboard; this many at most (the newest), so a flood of jobs cannot blow up cardinality. */
export const MAX_JOB_SERIES = 200;

const TASK_STATES = ['queued', 'running', 'succeeded', 'failed'] as const;

/**
 * Jobs and tasks: all jobs by state, tasks finished (a counter per pool and outcome), task-time cost,
 * tasks of live jobs by state, and per-job series (label `job_id`, never `job`: Prometheus keeps `job`
 * for the scrape job and would rename ours to `exported_job`) for live jobs and jobs that ended within
 * the fold's grace time.
 */
export class JobMetrics {
  private readonly jobs: Gauge;
  private readonly activeTasks: Gauge;
  private readonly finished: Counter;
  private readonly cost: Counter;
  private readonly scanned: Gauge;
  private readonly truncated: Gauge;
  private readonly info: Gauge;
  private readonly jobTasks: Gauge;
  private readonly jobTotal: Gauge;
  private readonly jobRate: Gauge;
  private readonly jobEta: Gauge;
  private readonly jobCost: Gauge;
  private readonly jobForecast: Gauge;
  private readonly hw = new HighWater();

  constructor(
    registers: Registry[],
    private readonly deps: { fold: JobFold; redis: Redis; keys: Keys; clock: Clock; graceMs: number },
  ) {
    const g = (name: string, help: string, labelNames: string[]): Gauge =>
      new Gauge({ name, help, labelNames, registers });
    this.jobs = g('kumo_jobs', 'Jobs by pool and state, all of them (ended ones too)', ['pool', 'state']);
    this.activeTasks = g('kumo_active_tasks', 'Tasks of jobs not yet ended, by pool and task state', ['pool', 'state']);
    this.finished = new Counter({
      name: 'kumo_tasks_finished_total',
      help: 'Tasks (batches) finished for good, by pool and outcome',
      labelNames: ['pool', 'outcome'],
      registers,
    });
    this.cost = new Counter({
      name: 'kumo_jobs_cost_usd_total',
      help: 'Task-time cost of all jobs, by pool (each task’s slot share of its VM price)',
      labelNames: ['pool'],
      registers,
    });
    this.scanned = g(
      'kumo_metrics_jobs_scanned',
      'Jobs /metrics read this scrape (those after the fold watermark)',
      [],
    );
    this.truncated = g(
      'kumo_metrics_jobs_scan_truncated',
      '1 when the job scan hit its cap and job totals miss the newest jobs',
      [],
    );
    this.info = g(
      'kumo_job_info',
      'One series per live or just-ended job, value 1, with its name, pool, kind, user and state',
      ['job_id', 'name', 'pool', 'kind', 'user', 'state'],
    );
    this.jobTasks = g('kumo_job_tasks', 'A job’s tasks by state (queued + running + succeeded + failed = total)', [
      'job_id',
      'state',
    ]);
    this.jobTotal = g('kumo_job_total_tasks', 'A job’s task count (its batches)', ['job_id']);
    this.jobRate = g('kumo_job_tasks_per_minute', 'A job’s tasks finished per minute over its recent window', [
      'job_id',
    ]);
    this.jobEta = g(
      'kumo_job_eta_seconds',
      'Seconds until a job is expected to finish, at its recent rate (absent while unknown)',
      ['job_id'],
    );
    this.jobCost = g('kumo_job_cost_usd', 'A job’s task-time cost so far', ['job_id']);
    this.jobForecast = g(
      'kumo_job_forecast_cost_usd',
      'A job’s expected cost when done, at its cost per task so far (absent while unknown)',
      ['job_id'],
    );
  }

  async refresh(pools: string[]): Promise<void> {
    const view = await this.deps.fold.read();
    this.renderTotals(view, pools);
    await this.renderJobs(view.scanned);
  }

  private renderTotals(view: JobsView, pools: string[]): void {
    const t = view.totals;
    for (const m of [this.jobs, this.activeTasks, this.finished, this.cost]) m.reset();
    // Every pool gets every series, zeros included, so rate() and sums work from the first scrape.
    for (const pool of pools) {
      for (const state of JOB_STATES) this.jobs.set({ pool, state }, t.get(`jobs|${pool}|${state}`) ?? 0);
      for (const outcome of ['succeeded', 'failed'] as const)
        this.finished.inc(
          { pool, outcome },
          this.hw.of('finished', { pool, outcome }, t.get(`tasks|${pool}|${outcome}`) ?? 0),
        );
      this.cost.inc({ pool }, this.hw.of('cost', { pool }, t.get(`cost|${pool}`) ?? 0));
      for (const state of TASK_STATES) this.activeTasks.set({ pool, state }, 0);
    }
    for (const j of view.scanned) {
      if (TERMINAL_JOB_STATES.has(j.state) || !pools.includes(j.pool)) continue;
      for (const state of TASK_STATES) this.activeTasks.inc({ pool: j.pool, state }, taskCount(j, state));
    }
    this.scanned.set(view.scanned.length);
    this.truncated.set(view.truncated ? 1 : 0);
  }

  private async renderJobs(scanned: ScannedJob[]): Promise<void> {
    for (const m of [
      this.info,
      this.jobTasks,
      this.jobTotal,
      this.jobRate,
      this.jobEta,
      this.jobCost,
      this.jobForecast,
    ])
      m.reset();
    const now = this.deps.clock.now();
    const ids = scanned
      .filter(
        (j) =>
          !TERMINAL_JOB_STATES.has(j.state) || (j.finishedAt !== undefined && now - j.finishedAt < this.deps.graceMs),
      )
      .map((j) => j.id)
      .reverse()
      .slice(0, MAX_JOB_SERIES);
    for (const job of await readJobSummaries(this.deps.redis, this.deps.keys, ids, now)) {
      const job_id = job.id;
      const p = job.progress;
      this.info.set({ job_id, name: job.name, pool: job.pool, kind: job.kind, user: job.user, state: job.state }, 1);
      for (const state of TASK_STATES) this.jobTasks.set({ job_id, state }, p[state]);
      this.jobTotal.set({ job_id }, p.total);
      this.jobRate.set({ job_id }, p.ratePerMinute);
      if (p.etaSeconds !== null) this.jobEta.set({ job_id }, p.etaSeconds);
      this.jobCost.set({ job_id }, p.costUsd);
      if (p.forecastCostUsd !== null) this.jobForecast.set({ job_id }, p.forecastCostUsd);
    }
  }
}

function taskCount(j: ScannedJob, state: (typeof TASK_STATES)[number]): number {
  if (state === 'queued') return Math.max(0, j.total - j.running - j.succeeded - j.failed);
  return j[state];
}
