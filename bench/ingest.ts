import { JobStore, type TaskEvent } from '@kumo/shared';
import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { busLagMs, commandStats, cpuMeter, resetStats, sumCalls } from './lib/redis-stats';
import { fmt, passIf, type Row } from './lib/report';
import { jobSpecSchema } from '@kumo/shared';

const PER_MESSAGE = 100;

/**
 * Row 5: progress events ingested per second, exactly. `events` task events (a start and a success per
 * task, 100 to a message, from 16 simulated workers, 5% of messages published twice as redeliveries
 * with new ids) are put on the bus first; then the Scheduler starts and its ingester applies them.
 * Timed from the scheduler's start to the job's counts reaching the totals; then, once the consumer
 * group has nothing pending, the counts must be exact: succeeded = tasks, running = failed = 0.
 */
export async function ingest(ctx: BenchContext, opts: { tasks?: number; withStarts?: boolean } = {}): Promise<Row[]> {
  const withStarts = opts.withStarts ?? true;
  const tasks = opts.tasks ?? (ctx.quick ? 25_000 : 250_000);
  const perTask = withStarts ? 2 : 1;
  const events = tasks * perTask;
  await ctx.admin.flushall();
  const kumo = await Kumo.start({
    redisUrl: ctx.redisUrl,
    prefix: benchPrefix('ingest'),
    scheduler: false,
    api: false,
    poolMax: 0,
  });
  const bus = await kumo.newBus();
  const store = new JobStore(kumo.redis, { prefix: kumo.opts.prefix });
  const { job } = await store.create({ spec: jobSpecSchema.parse(noopSpec(tasks, 'bench-ingest')), user: 'bench' });
  const jobKey = `${kumo.opts.prefix}:job:${job.id}`;

  let messages = 0;
  let duplicates = 0;
  let published = 0;
  const t0pub = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let from = 0; from < tasks; from += PER_MESSAGE / perTask) {
    const w = `sim-worker-${(from / (PER_MESSAGE / perTask)) % 16}`;
    const batch: TaskEvent[] = [];
    const now = Date.now();
    for (let i = from; i < Math.min(tasks, from + PER_MESSAGE / perTask); i++) {
      if (withStarts) batch.push({ t: 's', j: job.id, i, a: 1, w, at: now });
      batch.push({ t: 'ok', j: job.id, i, a: 1, w, at: now, d: 1 });
    }
    inFlight.push(bus.publish('progress', { workerId: w, events: batch }));
    messages++;
    published += batch.length;
    if (messages % 20 === 0) {
      inFlight.push(bus.publish('progress', { workerId: w, events: batch }));
      duplicates++;
      published += batch.length;
    }
    if (inFlight.length >= 200) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  const pubMs = performance.now() - t0pub;
  ctx.log(
    `published ${fmt.int(published)} events in ${fmt.int(messages + duplicates)} messages (${duplicates} duplicates) in ${fmt.ms(pubMs)}`,
  );

  let reachedMs: number;
  let drainedMs: number;
  let final: (string | null)[];
  let cpu: Awaited<ReturnType<Awaited<ReturnType<typeof cpuMeter>>['stop']>>;
  let calls: ReturnType<typeof sumCalls>;
  try {
    await resetStats(ctx.admin);
    const meter = await cpuMeter(ctx.admin);
    const t0 = performance.now();
    await kumo.startScheduler();
    for (;;) {
      const v = await kumo.redis.hmget(jobKey, 'succeeded', 'failed');
      if (Number(v[0]) + Number(v[1]) >= tasks) break;
      if (performance.now() - t0 > 300_000) throw new Error(`ingest: only ${v[0]} of ${tasks} after 300 s`);
      await sleep(5);
    }
    reachedMs = performance.now() - t0;
    cpu = await meter.stop();
    calls = sumCalls(await commandStats(ctx.admin));
    const stream = `${kumo.opts.prefix}:bus:progress`;
    for (;;) {
      const lag = await busLagMs(ctx.admin, stream, 'ingester');
      if (lag.pending === 0 && lag.lagMs === 0) break;
      if (performance.now() - t0 > 300_000) throw new Error('ingest: the group never drained');
      await sleep(20);
    }
    drainedMs = performance.now() - t0;
    final = await kumo.redis.hmget(jobKey, 'state', 'succeeded', 'failed', 'running');
  } finally {
    await kumo.stop();
  }
  const exact =
    final[0] === 'succeeded' && Number(final[1]) === tasks && Number(final[2]) === 0 && Number(final[3]) === 0;
  const rate = (events / reachedMs) * 1000;
  ctx.log(
    `ingested ${fmt.int(events)} events in ${fmt.ms(reachedMs)} = ${fmt.int(rate)}/s; drained (with duplicates) in ${fmt.ms(drainedMs)}; final ${final.join(', ')}; exact ${exact}`,
  );
  return [
    {
      n: 5,
      id: 'ingest',
      what: `Progress events ingested/s, exact (${fmt.int(events)} events)`,
      kumo: `${fmt.int(rate)}/s, exact: ${exact ? 'yes' : 'NO'} (${fmt.int(events / ((reachedMs / 1000) * (cpu.node + cpu.redis)))} per CPU-s)`,
      baseline: '-',
      ratio: '-',
      target: '>= 50,000/s and exact',
      status: passIf(rate >= 50_000 && exact),
      notes:
        `${fmt.int(tasks)} tasks x (${withStarts ? 'start + success' : 'success only'}), ${PER_MESSAGE} events per message, ${fmt.int(messages)} messages + ${duplicates} re-published duplicates, all on the bus before the scheduler starts. ` +
        `Counts reached in ${fmt.ms(reachedMs)}; group drained (duplicates included, ${fmt.int(published)} events) in ${fmt.ms(drainedMs)} = ${fmt.int((published / drainedMs) * 1000)}/s; final state ${final[0]}, succeeded ${final[1]}, failed ${final[2]}, running ${final[3]}. ` +
        `CPU until counts reached (cores): node ${cpu.node.toFixed(2)}, redis-server ${cpu.redis.toFixed(2)}; Redis commands per event ${(calls.total / published).toFixed(2)} (${Object.entries(
          calls.byCommand,
        )
          .slice(0, 8)
          .map(([c, n]) => `${c} ${(n / published).toFixed(2)}`)
          .join(', ')}).`,
      data: {
        withStarts,
        events,
        tasks,
        perMessage: PER_MESSAGE,
        messages,
        duplicates,
        published,
        pubMs,
        reachedMs,
        drainedMs,
        rate,
        exact,
        final,
        cpu,
        calls,
      },
    },
  ];
}
