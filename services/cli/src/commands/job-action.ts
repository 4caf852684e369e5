import { expectOk } from '../api/client';
import type { Job } from '../api/types';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { finalCounts } from '../format/progress';
import { formatCount } from '../format/numbers';
import { writeJson, type Command } from './command';

type Action = 'cancel' | 'pause' | 'resume';

/** What the answer's counts say after each action: a cancel is an end, a pause or resume is not. */
const COUNTS: Record<Action, (job: Job) => string> = {
  // Counts at the moment of the cancel: tasks still running are being stopped and may yet report.
  cancel: (job) => finalCounts(job.progress),
  // A pause lets tasks in flight finish: how many are still running says how long that takes.
  pause: (job) =>
    `${formatCount(job.progress.running)} tasks still running finish; ${formatCount(job.progress.queued)} wait`,
  resume: (job) =>
    `${formatCount(job.progress.succeeded + job.progress.failed)} of ${formatCount(job.progress.total)} ${job.progress.unit} done`,
};

/** `kumo cancel|pause|resume <id>`: one POST /v1/jobs/:id/<action>, and the job's state after it. */
function jobAction(action: Action, summary: string): Command {
  const usage = `kumo ${action} <id> [--json]`;
  return {
    name: action,
    summary,
    usage,
    async run(ctx, argv) {
      const { values, positionals } = parseCommandArgs(argv, {
        options: { json: { type: 'boolean' } },
        positionals: { min: 1, max: 1 },
        usage,
      });
      const job = expectOk(
        await ctx.api.POST(`/v1/jobs/{id}/${action}`, { params: { path: { id: positionals[0]! } } }),
      );
      if (values.json) writeJson(ctx, job);
      else ctx.stdout.write(`${job.id} ${job.state}: ${COUNTS[action](job)}\n`);
      return EXIT.OK;
    },
  };
}

export const cancel = jobAction('cancel', 'cancel a job: running tasks are stopped, nothing new starts');
export const pause = jobAction('pause', 'pause a job: nothing new starts, tasks already running finish');
export const resume = jobAction('resume', 'resume a paused job');
