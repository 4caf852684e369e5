import { expectOk } from '../api/client';
import { parseCommandArgs } from '../args';
import { usageError } from '../cli-error';
import { EXIT } from '../exit-codes';
import { formatCount } from '../format/numbers';
import { writeJson, type Command } from './command';

const usage = 'kumo rerun <id> [--failed | --unfinished] [--json]';

/** `kumo rerun <id>`: POST /v1/jobs/:id/rerun; the new job's id and how many tasks it runs. */
export const rerun: Command = {
  name: 'rerun',
  summary:
    "rerun an ended job's failed tasks (--failed, the default) or every task that did not succeed (--unfinished), as a new job",
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: { failed: { type: 'boolean' }, unfinished: { type: 'boolean' }, json: { type: 'boolean' } },
      positionals: { min: 1, max: 1 },
      usage,
    });
    if (values.failed && values.unfinished)
      throw usageError('give --failed or --unfinished, not both', `usage: ${usage}`);
    const tasks = values.unfinished ? 'unfinished' : 'failed';
    const job = expectOk(
      await ctx.api.POST('/v1/jobs/{id}/rerun', { params: { path: { id: positionals[0]! } }, body: { tasks } }),
    );
    if (values.json) writeJson(ctx, job);
    else
      ctx.stdout.write(
        `${job.id} ${job.state}: reruns ${formatCount(job.progress.total)} ${tasks} ${job.progress.unit} of ${job.rerunOf}\n`,
      );
    return EXIT.OK;
  },
};
