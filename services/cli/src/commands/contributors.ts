import { expectOk } from '../api/client';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { formatCount } from '../format/numbers';
import { renderTable } from '../format/table';
import { writeJson, type Command } from './command';

const usage = 'kumo contributors [<id>] [--pool <p>] [--since <iso date>] [--json]';

/**
 * `kumo contributors <id>`: who did a job's tasks (GET /v1/jobs/:id/contributors); without an id, the
 * team's table across jobs (GET /v1/contributors, by pool and since a date).
 */
export const contributors: Command = {
  name: 'contributors',
  summary: "who did how many of a job's tasks; without an id, the team's table across jobs",
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: { pool: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' } },
      positionals: { min: 0, max: 1 },
      usage,
    });
    const id = positionals[0];
    const query = {
      ...(values.pool !== undefined ? { pool: values.pool } : {}),
      ...(values.since !== undefined ? { since: values.since } : {}),
    };
    const body = id
      ? expectOk(await ctx.api.GET('/v1/jobs/{id}/contributors', { params: { path: { id } } }))
      : expectOk(await ctx.api.GET('/v1/contributors', { params: { query } }));
    if (values.json) {
      writeJson(ctx, body);
      return EXIT.OK;
    }
    if (body.contributors.length === 0) ctx.stderr.write('no tasks done yet\n');
    else {
      const rows = body.contributors.map((c) => [
        c.worker,
        c.owner,
        formatCount(c.succeeded),
        formatCount(c.failed),
        formatCount(Math.round(c.taskSeconds)),
      ]);
      ctx.stdout.write(renderTable(['WORKER', 'OWNER', 'SUCCEEDED', 'FAILED', 'TASK SECONDS'], rows));
    }
    return EXIT.OK;
  },
};
