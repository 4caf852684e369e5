import { expectOk } from '../api/client';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { finalCounts } from '../format/progress';
import { writeJson, type Command } from './command';

const usage = 'kumo cancel <id> [--json]';

export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a job: running tasks are stopped, nothing new starts',
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, { options: { json: { type: 'boolean' } }, positionals: { min: 1, max: 1 }, usage });
    const job = expectOk(await ctx.api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: positionals[0]! } } }));
    if (values.json) writeJson(ctx, job);
    // Counts at the moment of the cancel: tasks still running are being stopped and may yet report.
    else ctx.stdout.write(`${job.id} ${job.state}: ${finalCounts(job.progress)}\n`);
    return EXIT.OK;
  },
};
