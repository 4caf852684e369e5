import { expectOkAs } from '../api/client';
import type { TaskFailure } from '../api/types';
import { parseCommandArgs, parseWholeNumber } from '../args';
import { CliError } from '../cli-error';
import { EXIT } from '../exit-codes';
import { formatTimestamp } from '../format/numbers';
import { writeJson, type Command } from './command';

const usage = 'kumo logs <id> [task] [--retrying] [--json]';
/** The most the API returns in one answer. */
const MAX_TASKS = 1000;

function render(t: TaskFailure): string {
  const head = `task ${t.index}: ${t.error.code}: ${t.error.message} (attempt ${t.attempt}${t.final ? ', final' : ', will retry'}, ${t.worker}, ${formatTimestamp(t.at)})`;
  const tail = t.logTail.trimEnd();
  const body = tail === '' ? '  (no output)' : tail.split('\n').map((l) => `  | ${l}`).join('\n');
  return `${head}\n${body}\n`;
}

export const logs: Command = {
  name: 'logs',
  summary: "failed tasks' errors and the last lines they printed; one task's with [task]",
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: { retrying: { type: 'boolean' }, json: { type: 'boolean' } },
      positionals: { min: 1, max: 2 },
      usage,
    });
    const id = positionals[0]!;
    const index = positionals[1] === undefined ? undefined : parseWholeNumber('task', positionals[1], { min: 0, max: Number.MAX_SAFE_INTEGER });
    // One task's log: whatever its last attempt left, failed for good or still being retried.
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
