import { commandsRow, startCounting, stopCounting, type CommandCount } from './commands';
import { httpsE2e } from './https-e2e';
import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { rawAddedProcess, rawEnqueue, rawFedProcess, rawProcess } from './lib/raw-bullmq';
import { cpuMeter } from './lib/redis-stats';
import { fmt, passIf, type Row } from './lib/report';

/**
 * Row 2 (and row 3's counts, and row 11): no-op tasks end to end. kumo: submit through the API, the
 * feeder tops the queue up, 2 in-process WorkerAgents x `slots` lease and run, outcomes go over the bus,
 * the ingester counts them exactly, the job succeeds. Timed from the submit's answer to state
 * `succeeded`. The baseline, raw BullMQ as a user lives it: one Worker with the same total concurrency
 * and a no-op processor already waiting, timed from the first addBulk to the last `completed`. For
 * information: the same jobs pre-added (timed from run()), added first and run after, and fed in a
 * window as kumo's feeder feeds. Row 11 runs the same job over the HTTPS lease API, in this run.
 */
export async function e2e(ctx: BenchContext): Promise<Row[]> {
  const tasks = ctx.quick ? 5_000 : 50_000;
  const agents = 2;
  const slots = 32;
  const concurrency = agents * slots;
  const timeoutMs = ctx.quick ? 120_000 : 300_000;

  // The baseline: adds inside the timed run, from the first add to the last completion.
  await ctx.admin.flushall();
  const rawAddedMs = await rawAddedProcess(ctx.redisUrl, benchPrefix('raw-added'), tasks, concurrency, timeoutMs);
  const rawAddedRate = (tasks / rawAddedMs) * 1000;
  ctx.log(
    `raw BullMQ, first add to last completion: ${fmt.int(tasks)} jobs in ${fmt.ms(rawAddedMs)} = ${fmt.int(rawAddedRate)}/s`,
  );

  // For information: pre-added (add counted for row 3, not timed), then processed (counted and timed).
  await ctx.admin.flushall();
  const rawPrefix = benchPrefix('raw-e2e');
  await startCounting(ctx.admin);
  const rawAddMs = await rawEnqueue(ctx.redisUrl, rawPrefix, tasks);
  const rawMeter = await cpuMeter(ctx.admin);
  const rawMs = await rawProcess(ctx.redisUrl, rawPrefix, tasks, concurrency, timeoutMs);
  const rawCpu = await rawMeter.stop();
  const rawCount: CommandCount = await stopCounting(ctx.admin, tasks);
  const rawRate = (tasks / rawMs) * 1000;
  const rawThenRate = (tasks / (rawAddMs + rawMs)) * 1000;
  ctx.log(
    `raw BullMQ pre-added: ${fmt.int(tasks)} jobs in ${fmt.ms(rawMs)} = ${fmt.int(rawRate)}/s, ${rawCount.perTask.toFixed(2)} commands/job; CPU node ${rawCpu.node.toFixed(2)}, redis ${rawCpu.redis.toFixed(2)} cores`,
  );

  // For information: raw BullMQ fed in a window while processing, as kumo's feeder does.
  await ctx.admin.flushall();
  const rawFedMs = await rawFedProcess(
    ctx.redisUrl,
    benchPrefix('raw-fed'),
    tasks,
    concurrency,
    slots * 32 * agents,
    timeoutMs,
  );
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
    if (!job || job.state !== 'succeeded' || job.progress.succeeded !== tasks)
      throw new Error(`kumo e2e: job ended ${JSON.stringify(job?.progress)}`);
  } finally {
    await kumo.stop();
  }
  const kumoRate = (tasks / kumoMs) * 1000;
  ctx.log(
    `kumo: ${fmt.int(tasks)} tasks in ${fmt.ms(kumoMs)} = ${fmt.int(kumoRate)}/s, ${kumoCount.perTask.toFixed(2)} commands/task; CPU node ${kumoCpu.node.toFixed(2)}, redis ${kumoCpu.redis.toFixed(2)} cores`,
  );

  const https = await httpsE2e(ctx, tasks, agents, slots, timeoutMs);
  ctx.log(
    `kumo over HTTPS: ${fmt.int(tasks)} tasks in ${fmt.ms(https.ms)} = ${fmt.int(https.rate)}/s (${https.byAgent.join(' + ')}); CPU node ${https.cpu.node.toFixed(2)}, redis ${https.cpu.redis.toFixed(2)} cores`,
  );

  const ratio = kumoRate / rawAddedRate;
  const httpsRatio = https.rate / kumoRate;
  const cores = (c: { node: number; redis: number }): string => `${c.node.toFixed(2)} / ${c.redis.toFixed(2)}`;
  return [
    {
      n: 2,
      id: 'e2e',
      what: `End-to-end no-op tasks/s (${fmt.int(tasks)} tasks, ${concurrency} slots)`,
      kumo: `${fmt.int(kumoRate)}/s`,
      baseline: `${fmt.int(rawAddedRate)}/s (raw BullMQ, first add to last completion; pre-added ${fmt.int(rawRate)}/s)`,
      ratio: `${fmt.x(ratio)} (of pre-added: ${fmt.x(kumoRate / rawRate)})`,
      target: '>= 0.8x raw',
      status: passIf(ratio >= 0.8),
      notes:
        `kumo: submit through the API to state succeeded, ${agents} in-process WorkerAgents x ${slots} slots, scheduler (feeder, ingester, autoscaler) and API in the same process. ` +
        `Raw, the baseline: one Worker (concurrency ${concurrency}, no-op processor) waiting, a producer in the same process adding all ${fmt.int(tasks)} jobs with addBulk (1,000 a call), timed from the first add to the last completed. ` +
        `For information: pre-added (timed from run()) ${fmt.int(rawRate)}/s, kumo ${fmt.x(kumoRate / rawRate)} of that; added first (${fmt.ms(rawAddMs)}) and run after ${fmt.int(rawThenRate)}/s, kumo ${fmt.x(kumoRate / rawThenRate)}; ` +
        `fed in a window of ${fmt.int(slots * 32 * agents)} while processing, as kumo's feeder does, ${fmt.int(rawFedRate)}/s, kumo ${fmt.x(kumoRate / rawFedRate)}. ` +
        `CPU in cores (node process / redis-server): kumo ${cores(kumoCpu)}, raw pre-added ${cores(rawCpu)}.`,
      data: {
        tasks,
        agents,
        slots,
        kumoMs,
        kumoRate,
        ratio,
        rawAddedMs,
        rawAddedRate,
        rawMs,
        rawRate,
        rawAddMs,
        rawThenRate,
        rawFedMs,
        rawFedRate,
        kumoCpu,
        rawCpu,
      },
    },
    commandsRow(kumoCount, rawCount, tasks),
    {
      n: 11,
      id: 'e2e',
      what: `HTTPS workers: end-to-end no-op tasks/s over the lease API (${fmt.int(tasks)} tasks, ${concurrency} slots)`,
      kumo: `${fmt.int(https.rate)}/s`,
      baseline: `${fmt.int(kumoRate)}/s (kumo, Redis-side workers: row 2's, this run)`,
      ratio: fmt.x(httpsRatio),
      target: '>= 0.25x Redis-side',
      status: passIf(httpsRatio >= 0.25),
      notes:
        `The same job as row 2's kumo side, run by ${agents} in-process HttpWorkerAgents x ${slots} slots leasing, heartbeating and completing over HTTP on a loopback socket (plain HTTP: TLS not measured) through the API's lease broker; ` +
        `tasks per agent ${https.byAgent.join(' / ')}. Agents, API and scheduler share this process, as row 2's agents do. CPU in cores (node process / redis-server): ${cores(https.cpu)}.`,
      data: {
        tasks,
        agents,
        slots,
        ms: https.ms,
        rate: https.rate,
        redisSideRate: kumoRate,
        ratio: httpsRatio,
        cpu: https.cpu,
        byAgent: https.byAgent,
      },
    },
  ];
}
