import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { rawEnqueue } from './lib/raw-bullmq';
import { sampleMemory, usedMemory } from './lib/redis-stats';
import { fmt, median, type Row } from './lib/report';

const ONE_MILLION = 1_000_000;

async function baseline(ctx: BenchContext): Promise<number> {
  const xs: number[] = [];
  for (let k = 0; k < 5; k++) {
    xs.push(await usedMemory(ctx.admin));
    await sleep(50);
  }
  return median(xs);
}

/**
 * Row 4: Redis `used_memory` (sampled every 100 ms) while a 1,000,000-batch kumo job runs on the e2e
 * setup, peak minus the baseline taken with the control plane up and idle; against raw BullMQ holding
 * N waiting jobs (addBulk, kumo's task options), scaled linearly to 1,000,000.
 */
export async function memory(ctx: BenchContext): Promise<Row[]> {
  const runMs = ctx.quick ? 4_000 : 10_000;
  const rawN = ctx.quick ? 20_000 : 200_000;

  await ctx.admin.flushall();
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix: benchPrefix('memory'), agents: 2, slots: 32 });
  let kumoBase: number;
  let kumoPeak: number;
  let samples: { t: number; bytes: number }[];
  let progress: { succeeded: number; running: number } | undefined;
  let streamLen: number;
  let streamBytes: number;
  try {
    await sleep(500);
    kumoBase = await baseline(ctx);
    const sampler = sampleMemory(ctx.admin, 100);
    const { id } = await kumo.submit(noopSpec(ONE_MILLION, 'bench-memory-1m'));
    await sleep(runMs);
    ({ peak: kumoPeak, samples } = await sampler.stop());
    const job = await kumo.jobs.get(id);
    progress = job ? { succeeded: job.progress.succeeded, running: job.progress.running } : undefined;
    const stream = `${kumo.opts.prefix}:bus:progress`;
    streamLen = await ctx.admin.xlen(stream);
    streamBytes = Number(await ctx.admin.call('MEMORY', 'USAGE', stream, 'SAMPLES', '0')) || 0;
  } finally {
    await kumo.stop();
  }
  const kumoDelta = kumoPeak - kumoBase;
  // Growth over the second half of the run: a window-bounded footprint would be flat there.
  const half = samples.filter((s) => s.t >= runMs / 2);
  const slope = half.length > 1 ? ((half.at(-1)!.bytes - half[0]!.bytes) / (half.at(-1)!.t - half[0]!.t)) * 1000 : 0;
  ctx.log(
    `kumo 1M job: +${fmt.mb(kumoDelta)} peak over ${runMs / 1000} s (${progress?.succeeded ?? '?'} tasks done, bus stream ${streamLen} entries, growing ${fmt.mb(slope)}/s at the end)`,
  );

  await ctx.admin.flushall();
  await sleep(200);
  const rawBase = await baseline(ctx);
  await rawEnqueue(ctx.redisUrl, benchPrefix('raw-memory'), rawN);
  const rawHeld = (await usedMemory(ctx.admin)) - rawBase;
  const raw1m = (rawHeld * ONE_MILLION) / rawN;
  ctx.log(`raw BullMQ: ${fmt.int(rawN)} waiting jobs hold ${fmt.mb(rawHeld)} -> ${fmt.mb(raw1m)} for 1M`);

  const ratio = kumoDelta / raw1m;
  // The progress stream is trimmed by length (MAXLEN ~100,000 entries), not by acks: it keeps every
  // outcome message until then, so its size follows tasks done, not tasks in flight.
  const done = progress?.succeeded ?? 0;
  const streamPerTask = done > 0 ? streamBytes / done : 0;
  const projected = streamPerTask * ONE_MILLION;
  return [
    {
      n: 4,
      id: 'memory',
      what: 'Redis memory for a 1,000,000-batch job (peak - baseline)',
      kumo: `${fmt.mb(kumoDelta)} peak in ${runMs / 1000} s; ~${fmt.mb(projected)} by job end (bus stream)`,
      baseline: `${fmt.mb(raw1m)} (raw BullMQ 1M waiting, scaled from ${fmt.int(rawN)})`,
      ratio: `${fmt.pct(ratio)} measured; ~${fmt.pct(projected / raw1m)} projected`,
      target: '< 5% of raw',
      status: ratio >= 0.05 ? 'FAIL' : projected / raw1m >= 0.05 ? 'WARN' : 'PASS',
      notes:
        `kumo: 1M-batch job submitted to the e2e setup (2 agents x 32 slots), used_memory sampled every 100 ms for ${runMs / 1000} s; ` +
        `${progress?.succeeded ?? '?'} tasks finished meanwhile; the progress stream held ${fmt.int(streamLen)} entries, ${fmt.mb(streamBytes)} (${fmt.int(streamPerTask)} B per finished task, ~${fmt.mb(projected)} = ${fmt.pct(projected / raw1m)} of raw by the end of the 1M job unless trimmed) and memory was still growing ${fmt.mb(slope)}/s. ` +
        `Raw: ${fmt.int(rawN)} jobs added held ${fmt.mb(rawHeld)} (${fmt.int(rawHeld / rawN)} B/job), scaled linearly to 1M.`,
      data: {
        runMs,
        kumoBase,
        kumoPeak,
        kumoDelta,
        slopeBytesPerS: slope,
        progress,
        streamLen,
        streamBytes,
        streamBytesPerTask: streamPerTask,
        projectedStreamBytes1m: projected,
        rawN,
        rawBase,
        rawHeld,
        raw1m,
        ratio,
        samples,
      },
    },
  ];
}
