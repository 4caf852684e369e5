import { commandsRow, startCounting, stopCounting, type CommandCount } from './commands';
import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { rawEnqueue, rawFedProcess, rawProcess } from './lib/raw-bullmq';
import { cpuMeter } from './lib/redis-stats';
import { fmt, passIf, type Row } from './lib/report';

/**
 * Row 2 (and row 3's counts): no-op tasks end to end. kumo: submit through the API, the feeder tops the
 * queue up, 2 in-process WorkerAgents x `slots` lease and run, outcomes go over the bus, the ingester
 * counts them exactly, the job succeeds. Timed from the submit's answer to state `succeeded`.
 * Raw BullMQ: the same number of jobs pre-added, one Worker with the same total concurrency and a no-op
 * processor, timed from run() to the last `completed`.
 */
export async function e2e(ctx: BenchContext): Promise<Row[]> {
  const tasks = ctx.quick ? 5_000 : 50_000;
  const agents = 2;
  const slots = 32;
  const concurrency = agents * slots;
  const timeoutMs = ctx.quick ? 120_000 : 300_000;

  // Raw BullMQ first: add (counted), then process (counted and timed).
  await ctx.admin.flushall();
  const rawPrefix = benchPrefix('raw-e2e');
  await startCounting(ctx.admin);
  const rawAddMs = await rawEnqueue(ctx.redisUrl, rawPrefix, tasks);
  const rawMeter = await cpuMeter(ctx.admin);
  const rawMs = await rawProcess(ctx.redisUrl, rawPrefix, tasks, concurrency, timeoutMs);
  const rawCpu = await rawMeter.stop();
  const rawCount: CommandCount = await stopCounting(ctx.admin, tasks);
  const rawRate = (tasks / rawMs) * 1000;
  // Context: raw BullMQ timed as kumo is, from having the tasks to all done (its addBulk, then the run).
  const rawAddedRate = (tasks / (rawAddMs + rawMs)) * 1000;
  ctx.log(`raw BullMQ: ${fmt.int(tasks)} jobs in ${fmt.ms(rawMs)} = ${fmt.int(rawRate)}/s, ${rawCount.perTask.toFixed(2)} commands/job; CPU node ${rawCpu.node.toFixed(2)}, redis ${rawCpu.redis.toFixed(2)} cores`);

  // Context, not the baseline: raw BullMQ paying for its adds inside the timed run, as kumo's feeder does.
  await ctx.admin.flushall();
  const rawFedMs = await rawFedProcess(ctx.redisUrl, benchPrefix('raw-fed'), tasks, concurrency, slots * 32 * agents, timeoutMs);
  const rawFedRate = (tasks / rawFedMs) * 1000;
  ctx.log(`raw BullMQ fed while processing: ${fmt.int(tasks)} jobs in ${fmt.ms(rawFedMs)} = ${fmt.int(rawFedRate)}/s`);

  await ctx.admin.flushall();
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix: benchPrefix('e2e'), agents, slots });
  let kumoMs: number;
  let kumoCount: CommandCount;
  let kumoCpu: Awaited<ReturnType<Awaited<ReturnType<typeof cpuMeter>>['stop']>>;
  try {
    await sleep(300);
    await startCounting(ctx.admin);
    kumo.polls = 0;
    const meter = await cpuMeter(ctx.admin);
    const { id } = await kumo.submit(noopSpec(tasks, 'bench-e2e'));
    const t0 = performance.now();
    await kumo.waitForState(id, ['succeeded', 'failed'], timeoutMs);
    kumoMs = performance.now() - t0;
    kumoCpu = await meter.stop();
    kumoCount = await stopCounting(ctx.admin, tasks, { hget: kumo.polls });
    const job = await kumo.jobs.get(id);
    if (!job || job.state !== 'succeeded' || job.progress.succeeded !== tasks) throw new Error(`kumo e2e: job ended ${JSON.stringify(job?.progress)}`);
  } finally {
    await kumo.stop();
  }
  const kumoRate = (tasks / kumoMs) * 1000;
  ctx.log(`kumo: ${fmt.int(tasks)} tasks in ${fmt.ms(kumoMs)} = ${fmt.int(kumoRate)}/s, ${kumoCount.perTask.toFixed(2)} commands/task; CPU node ${kumoCpu.node.toFixed(2)}, redis ${kumoCpu.redis.toFixed(2)} cores`);

  const ratio = kumoRate / rawRate;
  return [
    {
      n: 2,
      id: 'e2e',
      what: `End-to-end no-op tasks/s (${fmt.int(tasks)} tasks, ${concurrency} slots)`,
      kumo: `${fmt.int(kumoRate)}/s`,
      baseline: `${fmt.int(rawRate)}/s (raw BullMQ)`,
      ratio: fmt.x(ratio),
      target: '>= 0.8x raw',
      status: passIf(ratio >= 0.8),
      notes: `kumo: submit through the API to state succeeded, ${agents} in-process WorkerAgents x ${slots} slots, scheduler (feeder, ingester, autoscaler) and API in the same process. Raw: jobs pre-added, one Worker, concurrency ${concurrency}, no-op processor. CPU in cores (node process / redis-server): kumo ${kumoCpu.node.toFixed(2)} / ${kumoCpu.redis.toFixed(2)}, raw ${rawCpu.node.toFixed(2)} / ${rawCpu.redis.toFixed(2)}. For context, raw BullMQ with its adds inside the timed run (a producer in the same process keeping ${fmt.int(slots * 32 * agents)} jobs queued, as kumo's feeder does): ${fmt.int(rawFedRate)}/s, kumo ${fmt.x(kumoRate / rawFedRate)} of that. And raw BullMQ timed from its addBulk (${fmt.ms(rawAddMs)}) to the last completed: ${fmt.int(rawAddedRate)}/s, kumo ${fmt.x(kumoRate / rawAddedRate)} of that.`,
      data: { tasks, agents, slots, kumoMs, rawMs, kumoRate, rawRate, ratio, kumoCpu, rawCpu, rawFedMs, rawFedRate, rawAddMs, rawAddedRate },
    },
    commandsRow(kumoCount, rawCount, tasks),
  ];
}
