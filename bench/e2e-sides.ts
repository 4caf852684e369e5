import { startCounting, stopCounting, type CommandCount } from './commands';
import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { rawAddedProcess, rawEnqueue, rawFedProcess, rawProcess } from './lib/raw-bullmq';
import { cpuMeter } from './lib/redis-stats';
import { fmt } from './lib/report';

/** Row 2's job: `tasks` no-op tasks on `agents` x `slots`, given up after `timeoutMs`. */
export interface E2eShape {
  tasks: number;
  agents: number;
  slots: number;
  timeoutMs: number;
}

export type Cores = { node: number; redis: number };

/** One round of row 2's raw BullMQ side: the baseline and the figures printed beside it for information. */
export interface RawRound {
  /** The baseline: a Worker waiting, every job added, first add to last completion. */
  addedMs: number;
  addedRate: number;
  /** Pre-added: timed from the Worker's run(); `addMs` is how long adding them took, untimed. */
  preMs: number;
  preRate: number;
  addMs: number;
  /** Added first, then run: (add + run). */
  thenRate: number;
  /** Fed in a window while processing, as kumo's feeder feeds. */
  fedMs: number;
  fedRate: number;
  /** CPU of the pre-added run. */
  cpu: Cores;
  /** Row 3's count over the add and the pre-added run, where asked for. */
  count?: CommandCount;
}

/** One round of row 2's kumo side. */
export interface KumoRound {
  ms: number;
  rate: number;
  cpu: Cores;
  count?: CommandCount;
}

const per = (tasks: number, ms: number): number => (tasks / ms) * 1000;

/** Raw BullMQ on row 2's job, each way it is measured, one after another; `count`: count row 3's commands. */
export async function rawRound(ctx: BenchContext, s: E2eShape, count: boolean): Promise<RawRound> {
  const concurrency = s.agents * s.slots;
  await ctx.admin.flushall();
  const addedMs = await rawAddedProcess(ctx.redisUrl, benchPrefix('raw-added'), s.tasks, concurrency, s.timeoutMs);

  // Pre-added: the add is counted for row 3 (it is part of the work) but not timed.
  await ctx.admin.flushall();
  const prefix = benchPrefix('raw-e2e');
  if (count) await startCounting(ctx.admin);
  const addMs = await rawEnqueue(ctx.redisUrl, prefix, s.tasks);
  const meter = await cpuMeter(ctx.admin);
  const preMs = await rawProcess(ctx.redisUrl, prefix, s.tasks, concurrency, s.timeoutMs);
  const cpu = await meter.stop();
  const counted = count ? await stopCounting(ctx.admin, s.tasks) : undefined;

  await ctx.admin.flushall();
  const window = s.slots * 32 * s.agents;
  const fedMs = await rawFedProcess(ctx.redisUrl, benchPrefix('raw-fed'), s.tasks, concurrency, window, s.timeoutMs);
  return {
    addedMs,
    addedRate: per(s.tasks, addedMs),
    preMs,
    preRate: per(s.tasks, preMs),
    addMs,
    thenRate: per(s.tasks, addMs + preMs),
    fedMs,
    fedRate: per(s.tasks, fedMs),
    cpu: { node: cpu.node, redis: cpu.redis },
    ...(counted ? { count: counted } : {}),
  };
}

/**
 * kumo on row 2's job: submit through the API, the feeder tops the queue up, `agents` in-process
 * WorkerAgents x `slots` lease and run, the job succeeds. Timed from the submit's answer to `succeeded`.
 */
export async function kumoRound(ctx: BenchContext, s: E2eShape, count: boolean): Promise<KumoRound> {
  await ctx.admin.flushall();
  const kumo = await Kumo.start({
    redisUrl: ctx.redisUrl,
    prefix: benchPrefix('e2e'),
    agents: s.agents,
    slots: s.slots,
  });
  try {
    await sleep(300);
    if (count) await startCounting(ctx.admin);
    kumo.polls = 0;
    const meter = await cpuMeter(ctx.admin);
    const { id } = await kumo.submit(noopSpec(s.tasks, 'bench-e2e'));
    const t0 = performance.now();
    await kumo.waitForState(id, ['succeeded', 'failed'], s.timeoutMs);
    const ms = performance.now() - t0;
    const cpu = await meter.stop();
    // The bench's own state polls (HGET) are not kumo's work.
    const counted = count ? await stopCounting(ctx.admin, s.tasks, { hget: kumo.polls }) : undefined;
    const job = await kumo.jobs.get(id);
    if (!job || job.state !== 'succeeded' || job.progress.succeeded !== s.tasks)
      throw new Error(`kumo e2e: job ended ${JSON.stringify(job?.progress)}`);
    return {
      ms,
      rate: per(s.tasks, ms),
      cpu: { node: cpu.node, redis: cpu.redis },
      ...(counted ? { count: counted } : {}),
    };
  } finally {
    await kumo.stop();
  }
}

export const cores = (c: Cores): string => `${c.node.toFixed(2)} / ${c.redis.toFixed(2)}`;

export function rawLine(r: RawRound, tasks: number): string {
  return (
    `raw BullMQ: first add to last completion ${fmt.int(tasks)} jobs in ${fmt.ms(r.addedMs)} = ${fmt.int(r.addedRate)}/s; ` +
    `pre-added ${fmt.ms(r.preMs)} = ${fmt.int(r.preRate)}/s (CPU node ${r.cpu.node.toFixed(2)}, redis ${r.cpu.redis.toFixed(2)} cores); ` +
    `fed while processing ${fmt.int(r.fedRate)}/s` +
    (r.count ? `; ${r.count.perTask.toFixed(2)} commands/job` : '')
  );
}
