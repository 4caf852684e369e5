import { setTimeout as sleep } from 'node:timers/promises';
import type { KumoClient } from '../api/client';
import { getJob, streamJobEvents } from '../api/job-events';
import type { Job, JobState, Progress } from '../api/types';
import { parseCommandArgs } from '../args';
import { CliError } from '../cli-error';
import { EXIT, type ExitCode } from '../exit-codes';
import { ProgressBar } from '../format/progress-bar';
import { endLine } from '../format/progress';
import type { Command } from './command';

const usage = 'kumo watch <id>';

/** How a job ended, as the exit code scripts read. Every terminal state must be listed here. */
const EXIT_FOR_END = { succeeded: EXIT.OK, failed: EXIT.FAILED, cancelled: EXIT.CANCELLED } as const satisfies Partial<
  Record<JobState, ExitCode>
>;
type EndState = keyof typeof EXIT_FOR_END;

const hasEnded = (state: JobState): state is EndState => Object.hasOwn(EXIT_FOR_END, state);

/** While the API is away (a restart), keep trying this often, this many times in a row, then give up. */
const RECONNECT_DELAY_MS = 1000;
const RECONNECT_TRIES = 30;

/**
 * Follows the job's event stream until it has ended, reconnecting when the stream drops: the control
 * plane may restart under a long watch and loses nothing, so neither should the watch. The job is read
 * once more at the end for counts that are final, not the last coalesced event's.
 */
async function followToEnd(api: KumoClient, id: string, onProgress: (p: Progress) => void): Promise<Job> {
  let unreachable = 0;
  for (;;) {
    try {
      await streamJobEvents(api, id, onProgress);
      const job = await getJob(api, id);
      if (hasEnded(job.state)) return job;
      unreachable = 0;
    } catch (err) {
      if (!(err instanceof CliError && err.exitCode === EXIT.UNREACHABLE) || ++unreachable >= RECONNECT_TRIES)
        throw err;
    }
    await sleep(RECONNECT_DELAY_MS);
  }
}

export const watch: Command = {
  name: 'watch',
  summary: 'a live progress bar until the job ends; exit 0 succeeded, 1 failed, 2 cancelled',
  usage,
  async run(ctx, argv) {
    const { positionals } = parseCommandArgs(argv, { options: {}, positionals: { min: 1, max: 1 }, usage });
    const id = positionals[0]!;
    let job = await getJob(ctx.api, id);
    const bar = new ProgressBar(ctx.stderr);
    try {
      bar.update(job.progress);
      if (!hasEnded(job.state)) job = await followToEnd(ctx.api, id, (p) => bar.update(p));
      bar.update(job.progress);
    } finally {
      bar.stop();
    }
    ctx.stdout.write(`${endLine(job)}\n`);
    // followToEnd returns only ended jobs; the check narrows the type without a cast.
    return hasEnded(job.state) ? EXIT_FOR_END[job.state] : EXIT.FAILED;
  },
};
