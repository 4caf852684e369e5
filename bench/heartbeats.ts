import { jobSpecSchema } from '@kumo/shared';
import { startChild } from './lib/child';
import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { busLagMs } from './lib/redis-stats';
import { fmt, median, passIf, percentile, type Row } from './lib/report';

/**
 * Row 8: 2,000 simulated workers (a child process) heartbeating every 5 s and reporting a small batch
 * every second, for ~10 s, at the control plane (API + Scheduler: ingester, feeder, autoscaler) in this
 * process. Reported: this process's CPU (process.cpuUsage over the window, as a share of one core) and
 * the bus lag (age of the oldest message the ingester group has not acked), sampled every 250 ms.
 */
export async function heartbeats(ctx: BenchContext): Promise<Row[]> {
  const workers = 2000;
  const seconds = ctx.quick ? 5 : 10;
  await ctx.admin.flushall();
  const prefix = benchPrefix('hb');
  // One slot per simulated worker, as 2,000 single-GPU VMs; the job is large enough to never finish.
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix, poolMax: workers, slots: 1 });
  const { job } = await kumo.jobs.create({
    spec: jobSpecSchema.parse(noopSpec(10_000_000, 'bench-heartbeats')),
    user: 'bench',
  });
  const stream = `${prefix}:bus:progress`;
  const lags: number[] = [];
  let cpu: NodeJS.CpuUsage;
  let wallMs: number;
  let appliedBefore: number;
  let appliedAfter: number;
  let done: Record<string, number> = {};
  let finalLag: Awaited<ReturnType<typeof busLagMs>>;
  let caughtUpMs: number | undefined;
  try {
    const load = await startChild(
      './heartbeat-load.ts',
      {
        BENCH_REDIS_URL: ctx.redisUrl,
        BENCH_PREFIX: prefix,
        BENCH_JOB_ID: job.id,
        BENCH_WORKERS: String(workers),
        BENCH_SECONDS: String(seconds + 2),
      },
      /^READY/,
    );
    // The first second ramps the load up (every worker's first report); measure after it.
    await sleep(1500);
    appliedBefore = kumo.scheduler!.ingester.applied;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      lags.push((await busLagMs(ctx.admin, stream, 'ingester')).lagMs);
      await sleep(250);
    }
    cpu = process.cpuUsage(c0);
    wallMs = performance.now() - t0;
    appliedAfter = kumo.scheduler!.ingester.applied;
    const exit = new Promise((r) => load.proc.once('exit', r));
    await exit;
    const m = /DONE (.*)/.exec(load.output());
    if (m) done = JSON.parse(m[1]!) as Record<string, number>;
    // How long after the load stops until the ingester has caught up.
    const s0 = performance.now();
    for (;;) {
      finalLag = await busLagMs(ctx.admin, stream, 'ingester');
      if (finalLag.lagMs === 0 && finalLag.pending === 0) {
        caughtUpMs = performance.now() - s0;
        break;
      }
      if (performance.now() - s0 > 30_000) break;
      await sleep(50);
    }
  } finally {
    await kumo.stop();
  }
  const cores = (cpu.user + cpu.system) / 1000 / wallMs;
  const maxLag = Math.max(...lags);
  const ingestRate = ((appliedAfter - appliedBefore) / wallMs) * 1000;
  ctx.log(
    `heartbeats: control plane CPU ${fmt.pct(cores)} of a core, bus lag median ${fmt.ms(median(lags))} max ${fmt.ms(maxLag)}, ingested ${fmt.int(ingestRate)} events/s; load ${JSON.stringify(done)}`,
  );
  return [
    {
      n: 8,
      id: 'heartbeats',
      what: `${fmt.int(workers)} workers heartbeating + reporting, ${seconds} s`,
      kumo: `CPU ${fmt.pct(cores)} of a core; bus lag median ${fmt.ms(median(lags))}, p95 ${fmt.ms(percentile(lags, 95))}, max ${fmt.ms(maxLag)}`,
      baseline: '-',
      ratio: '-',
      target: 'none set; shown: lag p95 < 1 s',
      status: passIf(percentile(lags, 95) < 1000),
      notes:
        `Load in a child process: ${fmt.int(workers)} workers, WorkerRegistry.beat every 5 s and a 2-event progress batch every 1 s each ` +
        `(${fmt.int((done.beats ?? 0) / (done.seconds ?? 1))} beats/s, ${fmt.int((done.batches ?? 0) / (done.seconds ?? 1))} batches/s). ` +
        `Control plane (API + Scheduler, in the bench process): user+system CPU ${fmt.int((cpu.user + cpu.system) / 1000)} ms over ${fmt.ms(wallMs)}; ingested ${fmt.int(ingestRate)} events/s; ` +
        `after the load stopped the ingester caught up in ${caughtUpMs === undefined ? '> 30 s' : fmt.ms(caughtUpMs)}.`,
      data: {
        workers,
        seconds,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        wallMs,
        cores,
        lags,
        maxLag,
        ingestRate,
        load: done,
        caughtUpMs,
      },
    },
  ];
}
