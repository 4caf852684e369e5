import { expectOkAs } from '../api/client';
import { apiError } from '../api/api-error';
import type { TaskFailure } from '../api/types';
import { parseCommandArgs, parseWholeNumber } from '../args';
import { CliError } from '../cli-error';
import { EXIT } from '../exit-codes';
import { formatTimestamp } from '../format/numbers';
import { writeJson, type Command, type CommandContext } from './command';

const usage = 'kumo logs <id> [task] [--follow] [--attempt N] [--retrying] [--json]';
/** The most the API returns in one answer. */
const MAX_TASKS = 1000;

function render(t: TaskFailure): string {
  const head = `task ${t.index}: ${t.error.code}: ${t.error.message} (attempt ${t.attempt}${t.final ? ', final' : ', will retry'}, ${t.worker}, ${formatTimestamp(t.at)})`;
  const tail = t.logTail.trimEnd();
  const body =
    tail === ''
      ? '  (no output)'
      : tail
          .split('\n')
          .map((l) => `  | ${l}`)
          .join('\n');
  return `${head}\n${body}\n`;
}

/** One task's whole log, as the API streams it (text/plain), to stdout as it comes; --follow until the task ends. */
async function printTaskLog(
  ctx: CommandContext,
  id: string,
  index: number,
  q: { follow: boolean; attempt?: number },
): Promise<void> {
  const answer = await ctx.api.GET('/v1/jobs/{id}/tasks/{index}/log', {
    params: {
      path: { id, index },
      query: {
        ...(q.follow ? { follow: 'true' as const } : {}),
        ...(q.attempt !== undefined ? { attempt: q.attempt } : {}),
      },
    },
    parseAs: 'stream',
  });
  if (!answer.response.ok) throw apiError(answer.response.status, answer.error);
  const body = answer.data as ReadableStream<Uint8Array> | null | undefined;
  if (!body) return;
  for await (const chunk of body) {
    // Waits for a slow reader (a pager) instead of holding the log in memory.
    if (!ctx.stdout.write(chunk)) await new Promise((r) => ctx.stdout.once('drain', r));
  }
}

export const logs: Command = {
  name: 'logs',
  summary:
    "failed tasks' errors and the last lines they printed; with [task], that task's whole log (--follow while it runs)",
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: {
        retrying: { type: 'boolean' },
        json: { type: 'boolean' },
        follow: { type: 'boolean' },
        attempt: { type: 'string' },
      },
      positionals: { min: 1, max: 2 },
      usage,
    });
    const id = positionals[0]!;
    const index =
      positionals[1] === undefined
        ? undefined
        : parseWholeNumber('task', positionals[1], { min: 0, max: Number.MAX_SAFE_INTEGER });
    const attempt =
      values.attempt === undefined
        ? undefined
        : parseWholeNumber('--attempt', values.attempt, { min: 1, max: 1_000_000 });
    if (index === undefined && (values.follow || attempt !== undefined))
      throw new CliError(EXIT.USAGE, 'USAGE', `--follow and --attempt need a task: ${usage}`);
    // One task's log: everything its attempt printed (--json: its failure record, as before).
    if (index !== undefined && !values.json) {
      await printTaskLog(ctx, id, index, {
        follow: values.follow === true,
        ...(attempt !== undefined ? { attempt } : {}),
      });
      return EXIT.OK;
    }
    const state = values.retrying || index !== undefined ? 'erroring' : 'failed';
    const { tasks } = expectOkAs<{ tasks: TaskFailure[] }>(
      await ctx.api.GET('/v1/jobs/{id}/tasks', { params: { path: { id }, query: { state, limit: MAX_TASKS } } }),
    );
    const shown = index === undefined ? tasks : tasks.filter((t) => t.index === index);
    if (index !== undefined && shown.length === 0) {
      throw new CliError(EXIT.NOT_FOUND, 'TASK_NOT_FOUND', `task ${index} of ${id} has no failed attempt on record`, {
        ...(tasks.length >= MAX_TASKS ? { hint: `only the first ${MAX_TASKS} failing tasks are searched` } : {}),
      });
    }
    if (values.json) {
      writeJson(ctx, { tasks: shown });
      return EXIT.OK;
    }
    if (shown.length === 0) ctx.stderr.write(`no ${state === 'failed' ? 'failed' : 'failing'} tasks in ${id}\n`);
    ctx.stdout.write(shown.map(render).join('\n'));
    return EXIT.OK;
  },
};
