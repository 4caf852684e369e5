import { expectOkAs } from '../api/client';
import type { Job, JobPage, ListJobsQuery } from '../api/types';
import { parseCommandArgs, parseWholeNumber } from '../args';
import { EXIT } from '../exit-codes';
import { formatCount, formatTimestamp } from '../format/numbers';
import { renderTable } from '../format/table';
import { writeJson, type Command } from './command';

const usage = 'kumo jobs [--state <s>] [--kind <k>] [--pool <p>] [--limit <n>] [--cursor <c>] [--json]';

function row(j: Job): string[] {
  const p = j.progress;
  return [
    j.id,
    j.name,
    j.kind,
    j.pool,
    j.state,
    `${formatCount(p.succeeded + p.failed + p.skipped)}/${formatCount(p.total)} ${p.unit}`,
    formatCount(p.failed),
    formatTimestamp(j.createdAt),
  ];
}

export const jobs: Command = {
  name: 'jobs',
  summary: 'list jobs, newest first',
  usage,
  async run(ctx, argv) {
    const { values } = parseCommandArgs(argv, {
      options: {
        state: { type: 'string' },
        kind: { type: 'string' },
        pool: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        json: { type: 'boolean' },
      },
      positionals: { min: 0, max: 0 },
      usage,
    });
    // state and kind go to the server unchecked: it knows the valid values (and says them in its
    // error), so a new job kind needs no CLI release.
    const query: ListJobsQuery = {
      ...(values.state !== undefined ? { state: values.state as NonNullable<ListJobsQuery['state']> } : {}),
      ...(values.kind !== undefined ? { kind: values.kind as NonNullable<ListJobsQuery['kind']> } : {}),
      ...(values.pool !== undefined ? { pool: values.pool } : {}),
      ...(values.cursor !== undefined ? { cursor: values.cursor } : {}),
      ...(values.limit !== undefined ? { limit: parseWholeNumber('--limit', values.limit, { min: 1, max: 500 }) } : {}),
    };
    const page = expectOkAs<JobPage>(await ctx.api.GET('/v1/jobs', { params: { query } }));
    if (values.json) {
      writeJson(ctx, page);
      return EXIT.OK;
    }
    if (page.jobs.length === 0) ctx.stderr.write('no jobs\n');
    else
      ctx.stdout.write(
        renderTable(['ID', 'NAME', 'KIND', 'POOL', 'STATE', 'DONE', 'FAILED', 'CREATED'], page.jobs.map(row)),
      );
    if (page.nextCursor) ctx.stderr.write(`more: kumo jobs --cursor ${page.nextCursor}\n`);
    return EXIT.OK;
  },
};
