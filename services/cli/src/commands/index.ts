import { cancel, pause, resume } from './job-action';
import type { Command } from './command';
import { contributors } from './contributors';
import { deleteJob } from './delete';
import { job } from './job';
import { jobs } from './jobs';
import { logs } from './logs';
import { pools } from './pools';
import { rerun } from './rerun';
import { simulate } from './simulate';
import { submit } from './submit';
import { watch } from './watch';

/** Every command, in the order `kumo --help` lists them. */
export const COMMANDS: readonly Command[] = [
  submit,
  jobs,
  job,
  watch,
  cancel,
  pause,
  resume,
  rerun,
  deleteJob,
  logs,
  contributors,
  pools,
  simulate,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
