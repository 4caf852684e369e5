import type { Job, Progress } from '../api/types';
import { formatCount, formatEta } from './numbers';

/** The pieces of a live progress line, each already formatted; the progress bar lays them out. */
export interface ProgressFields {
  /** "30,000/90,000": finished tasks (succeeded, failed or skipped) of all. */
  counts: string;
  unit: string;
  /** Whole percent, rounded down so that 100 means every task has finished. */
  percent: string;
  /** "412". */
  rate: string;
  /** "14:00", "Tue 14:00", "done" or "--:--". */
  eta: string;
}

export function progressFields(p: Progress, now: Date): ProgressFields {
  return {
    counts: `${formatCount(p.succeeded + p.failed + p.skipped)}/${formatCount(p.total)}`,
    unit: p.skipped > 0 ? `${p.unit} (${formatCount(p.skipped)} skipped)` : p.unit,
    percent: String(Math.floor(p.percent)),
    rate: formatCount(Math.round(p.ratePerMinute)),
    eta: formatEta(p.etaSeconds, p.estimatedCompletionAt, now),
  };
}

/** "30,000/90,000 batches | 33% | 412/min | ETA 14:00"; "30,000/90,000 batches (30,000 skipped) | ..." with a skip. */
export function progressLine(p: Progress, now: Date): string {
  const f = progressFields(p, now);
  return `${f.counts} ${f.unit} | ${f.percent}% | ${f.rate}/min | ETA ${f.eta}`;
}

/**
 * The counts that matter once a job has ended: "2,000 succeeded, 0 failed, 0 not run of 2,000 batches".
 * "not run" is what a cancel (or a failed job) left queued or running.
 */
export function finalCounts(p: Progress): string {
  const notRun = p.queued + p.running;
  const skipped = p.skipped > 0 ? `${formatCount(p.skipped)} skipped, ` : '';
  return `${formatCount(p.succeeded)} succeeded, ${formatCount(p.failed)} failed, ${skipped}${formatCount(notRun)} not run of ${formatCount(p.total)} ${p.unit}`;
}

/** "job_… succeeded: 2,000 succeeded, …" with the server's reason when it gave one. */
export function endLine(job: Job): string {
  return `${job.id} ${job.state}: ${finalCounts(job.progress)}${job.reason ? ` (${job.reason})` : ''}`;
}
