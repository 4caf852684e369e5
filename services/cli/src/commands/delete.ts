import { apiError } from '../api/api-error';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { writeJson, type Command } from './command';

const usage = 'kumo delete <id> [--json]';

/** `kumo delete <id>`: DELETE /v1/jobs/:id, an ended job and everything kept of it (logs too). */
export const deleteJob: Command = {
  name: 'delete',
  summary: 'delete an ended job: its record, results, contributors and task logs (cancel a live one first)',
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: { json: { type: 'boolean' } },
      positionals: { min: 1, max: 1 },
      usage,
    });
    const id = positionals[0]!;
    const answer = await ctx.api.DELETE('/v1/jobs/{id}', { params: { path: { id } } });
    if (!answer.response.ok) throw apiError(answer.response.status, answer.error);
    if (values.json) writeJson(ctx, { id, deleted: true });
    else ctx.stdout.write(`${id} deleted\n`);
    return EXIT.OK;
  },
};
