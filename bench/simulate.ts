import { readFileSync } from 'node:fs';
import type { SimulationInputRaw } from '@kumo/shared';
import { runSimulation } from '@kumo/scheduler';
import type { BenchContext } from './lib/context';
import { logger } from './lib/kumo';
import { fmt, passIf, type Row } from './lib/report';

/** Row 9: wall time of runSimulation on the shipped CC-MAIN-2023-50 example (90,000 batches, 64 spot A100s). */
export async function simulate(ctx: BenchContext): Promise<Row[]> {
  const file = new URL('../examples/simulate-cc-main-2023-50.json', import.meta.url);
  const input = JSON.parse(readFileSync(file, 'utf8')) as SimulationInputRaw;
  await ctx.admin.flushall();
  const t0 = performance.now();
  const r = await runSimulation(input, { redisUrl: ctx.redisUrl, logger });
  const ms = performance.now() - t0;
  ctx.log(
    `simulation: ${fmt.ms(ms)} wall, makespan ${r.makespanSeconds} s (ideal ${r.idealMakespanSeconds} s), ${r.jobState}`,
  );
  return [
    {
      n: 9,
      id: 'simulate',
      what: 'runSimulation, examples/simulate-cc-main-2023-50.json',
      kumo: `${fmt.ms(ms)} wall`,
      baseline: '-',
      ratio: '-',
      target: '< 60 s',
      status: passIf(ms < 60_000 && r.finished && r.jobState === 'succeeded'),
      notes: `90,000 tasks on virtual time; job ${r.jobState}, makespan ${r.makespanSeconds} s vs ideal ${r.idealMakespanSeconds} s, ${r.preemptions} preemptions, peak ${r.peakVms} VMs; the report's own wallSeconds ${r.wallSeconds}.`,
      data: { wallMs: ms, report: { ...r, series: undefined } },
    },
  ];
}
