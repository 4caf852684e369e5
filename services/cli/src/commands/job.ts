import { expectOk } from '../api/client';
import type { Job } from '../api/types';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { formatCount, formatTimestamp, formatUsd } from '../format/numbers';
import { progressLine } from '../format/progress';
import { writeJson, type Command } from './command';

const usage = 'kumo job <id> [--json]';

function describe(job: Job, now: Date): string {
  const p = job.progress;
  const lines: [string, string][] = [
    ['id', job.id],
    ['name', job.name],
    ['kind', job.kind],
    ['pool', job.pool],
    ['user', job.user],
    ['state', job.reason ? `${job.state} (${job.reason})` : job.state],
    ['progress', progressLine(p, now)],
    ['tasks', `${formatCount(p.queued)} queued, ${formatCount(p.running)} running, ${formatCount(p.succeeded)} succeeded, ${formatCount(p.failed)} failed`],
    ['cost', `${formatUsd(p.costUsd)}${p.forecastCostUsd !== null && p.succeeded + p.failed < p.total ? ` (forecast ${formatUsd(p.forecastCostUsd)})` : ''}`],
    ['created', formatTimestamp(job.createdAt)],
    ['started', formatTimestamp(job.startedAt)],
    ['finished', formatTimestamp(job.finishedAt)],
  ];
  return lines.map(([k, v]) => `${`${k}:`.padEnd(10)}${v}`).join('\n') + '\n';
}

export const job: Command = {
  name: 'job',
  summary: 'one job: state, progress, rate, ETA',
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, { options: { json: { type: 'boolean' } }, positionals: { min: 1, max: 1 }, usage });
    const found = expectOk(await ctx.api.GET('/v1/jobs/{id}', { params: { path: { id: positionals[0]! } } }));
    if (values.json) writeJson(ctx, found);
    else ctx.stdout.write(describe(found, new Date()));
    return EXIT.OK;
  },
};
