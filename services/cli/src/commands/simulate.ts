import { setTimeout as sleep } from 'node:timers/promises';
import { expectOk } from '../api/client';
import { parseCommandArgs } from '../args';
import { CliError } from '../cli-error';
import { EXIT } from '../exit-codes';
import { formatCount, formatUsd } from '../format/numbers';
import { readSpec } from '../spec-file';
import { writeJson, type Command } from './command';

const usage = 'kumo simulate <file|-> [--json] [--timeout <seconds>]';

import type { paths } from '../generated/api';

type SimulateBody = paths['/v1/simulations']['post']['requestBody']['content']['application/json'];

interface Report {
  finished: boolean;
  jobState: string;
  tasks: number;
  makespanSeconds: number;
  idealMakespanSeconds: number;
  costUsd: number;
  idealCostUsd: number;
  vmHours: number;
  idleVmHours: number;
  preemptions: number;
  retries: number;
  peakVms: number;
  wallSeconds: number;
}

const hours = (s: number): string => `${(s / 3600).toFixed(1)} h`;

export const simulate: Command = {
  name: 'simulate',
  summary:
    'rehearse a job on a simulated pool (real scheduler and autoscaler on virtual time): when it finishes, what it costs',
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: { json: { type: 'boolean' }, timeout: { type: 'string' } },
      positionals: { min: 1, max: 1 },
      usage,
    });
    const timeoutS = values.timeout === undefined ? 600 : Number(values.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0)
      throw new CliError(EXIT.USAGE, 'INVALID_INPUT', `--timeout must be a number of seconds, not '${values.timeout}'`);
    const spec = await readSpec(positionals[0]!, ctx.stdin);
    const queued = expectOk(
      await ctx.api.POST('/v1/simulations', {
        // Sent as read: the server parses and validates it (YAML included).
        body: spec.text as unknown as SimulateBody,
        bodySerializer: (body: unknown) => body as string,
        headers: { 'content-type': spec.contentType },
      }),
    );
    const until = Date.now() + timeoutS * 1000;
    for (;;) {
      const s = expectOk(await ctx.api.GET('/v1/simulations/{id}', { params: { path: { id: queued.id } } }));
      if (s.state === 'failed')
        throw new CliError(
          EXIT.FAILED,
          s.error?.code ?? 'SIMULATION_FAILED',
          s.error?.message ?? 'the simulation failed',
        );
      if (s.state === 'done') {
        const r = s.report as unknown as Report;
        if (values.json) writeJson(ctx, s.report);
        else {
          ctx.stdout.write(
            [
              `${formatCount(r.tasks)} tasks, ${r.jobState}: makespan ${hours(r.makespanSeconds)} (ideal ${hours(r.idealMakespanSeconds)}, x${(r.makespanSeconds / r.idealMakespanSeconds).toFixed(3)})`,
              `cost ${formatUsd(r.costUsd)} (ideal ${formatUsd(r.idealCostUsd)}); ${formatCount(Math.round(r.vmHours))} VM-hours, ${formatCount(Math.round(r.idleVmHours))} idle; peak ${r.peakVms} VMs`,
              `${formatCount(r.preemptions)} preemptions, ${formatCount(r.retries)} retries; simulated in ${r.wallSeconds} s`,
              '',
            ].join('\n'),
          );
        }
        return r.finished ? EXIT.OK : EXIT.FAILED;
      }
      if (Date.now() > until)
        throw new CliError(
          EXIT.FAILED,
          'TIMEOUT',
          `simulation ${queued.id} did not finish within ${timeoutS} s (still ${s.state})`,
        );
      await sleep(500);
    }
  },
};
