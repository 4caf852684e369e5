import { expectOk } from '../api/client';
import type { CheckpointEvaluation, Job } from '../api/types';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { formatCount, formatTimestamp, formatUsd } from '../format/numbers';
import { progressLine } from '../format/progress';
import { renderTable } from '../format/table';
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
    ...(job.rerunOf ? [['rerun of', job.rerunOf] as [string, string]] : []),
    ['state', job.reason ? `${job.state} (${job.reason})` : job.state],
    ['progress', progressLine(p, now)],
    [
      'tasks',
      `${formatCount(p.queued)} queued, ${formatCount(p.running)} running, ${formatCount(p.succeeded)} succeeded, ${formatCount(p.failed)} failed${p.skipped > 0 ? `, ${formatCount(p.skipped)} skipped` : ''}`,
    ],
    [
      'cost',
      `${formatUsd(p.costUsd)}${p.forecastCostUsd !== null && p.succeeded + p.failed < p.total ? ` (forecast ${formatUsd(p.forecastCostUsd)})` : ''}`,
    ],
    ['created', formatTimestamp(job.createdAt)],
    ['started', formatTimestamp(job.startedAt)],
    ['finished', formatTimestamp(job.finishedAt)],
  ];
  return lines.map(([k, v]) => `${`${k}:`.padEnd(10)}${v}`).join('\n') + '\n';
}

/** A training job's evaluated checkpoints, a row per step and a column per benchmark. */
function describeEvaluations(evaluations: CheckpointEvaluation[]): string {
  if (evaluations.length === 0) return '\nevaluations: none yet\n';
  const benchmarks = [...new Set(evaluations.flatMap((e) => Object.keys(e.scores)))];
  const rows = evaluations.map((e) => [
    formatCount(e.step),
    e.state,
    ...benchmarks.map((b) => (typeof e.scores[b] === 'number' ? String(e.scores[b]) : '-')),
    e.jobId,
  ]);
  return `\nevaluations:\n${renderTable(['STEP', 'STATE', ...benchmarks.map((b) => b.toUpperCase()), 'JOB'], rows)}`;
}

export const job: Command = {
  name: 'job',
  summary: "one job: state, progress, rate, ETA; a training job's evaluated checkpoints",
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: { json: { type: 'boolean' } },
      positionals: { min: 1, max: 1 },
      usage,
    });
    const found = expectOk(await ctx.api.GET('/v1/jobs/{id}', { params: { path: { id: positionals[0]! } } }));
    // A training job that evaluates its checkpoints shows them too (--json: under `evaluations`).
    const evaluates =
      found.kind === 'training' && typeof found.spec.evaluate === 'object' && found.spec.evaluate !== null;
    const evaluations = evaluates
      ? expectOk(await ctx.api.GET('/v1/jobs/{id}/evaluations', { params: { path: { id: found.id } } })).evaluations
      : undefined;
    if (values.json) writeJson(ctx, evaluations ? { ...found, evaluations } : found);
    else ctx.stdout.write(describe(found, new Date()) + (evaluations ? describeEvaluations(evaluations) : ''));
    return EXIT.OK;
  },
};
