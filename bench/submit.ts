import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec } from './lib/kumo';
import { rawEnqueue } from './lib/raw-bullmq';
import { fmt, median, passIf, percentile, type Row } from './lib/report';

/**
 * Row 1: POST /v1/jobs latency (Fastify inject into the real API: routing, auth, zod validation,
 * createJob script, the record read back and serialized) for 1,000 / 90,000 / 1,000,000 batches,
 * interleaved, median of `reps`; against raw BullMQ addBulk (chunks of 1,000) of as many jobs.
 */
export async function submit(ctx: BenchContext): Promise<Row[]> {
  const sizes = [1_000, 90_000, 1_000_000];
  const reps = ctx.quick ? 10 : 30;
  await ctx.admin.flushall();
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix: benchPrefix('submit'), scheduler: false });
  const times = new Map<number, number[]>(sizes.map((s) => [s, []]));
  try {
    for (let w = 0; w < 10; w++) await kumo.submit(noopSpec(1_000, 'warm-up'));
    for (let r = 0; r < reps; r++) {
      for (const size of sizes) times.get(size)!.push((await kumo.submit(noopSpec(size, `submit-${size}`))).ms);
    }
  } finally {
    await kumo.stop();
  }
  const med = (s: number): number => median(times.get(s)!);
  const p95 = (s: number): number => percentile(times.get(s)!, 95);
  ctx.log(
    `kumo submit medians: ${sizes.map((s) => `${fmt.int(s)}: ${fmt.ms(med(s))} (p95 ${fmt.ms(p95(s))})`).join(', ')}`,
  );

  // Raw BullMQ: 1k measured (median of 3); 90k measured (quick: from 20k); 1M scaled from the largest measured.
  await ctx.admin.flushall();
  const raw1kTimes: number[] = [];
  for (let k = 0; k < 3; k++) raw1kTimes.push(await rawEnqueue(ctx.redisUrl, benchPrefix('raw-submit'), 1_000));
  const raw1k = median(raw1kTimes);
  const measuredN = ctx.quick ? 20_000 : 90_000;
  const rawMeasured = await rawEnqueue(ctx.redisUrl, benchPrefix('raw-submit'), measuredN);
  const raw90k = (rawMeasured * 90_000) / measuredN;
  const raw1m = (rawMeasured * 1_000_000) / measuredN;
  ctx.log(`raw addBulk: 1,000 in ${fmt.ms(raw1k)}, ${fmt.int(measuredN)} in ${fmt.ms(rawMeasured)}`);

  const k1 = med(1_000);
  const k1m = med(1_000_000);
  const ok = k1m < 50 && k1m <= 2 * k1;
  return [
    {
      n: 1,
      id: 'submit',
      what: 'Submit latency, POST /v1/jobs (median)',
      kumo: `1k ${fmt.ms(k1)} · 90k ${fmt.ms(med(90_000))} · 1M ${fmt.ms(k1m)}`,
      baseline: `raw addBulk 1k ${fmt.ms(raw1k)} · 90k ${fmt.ms(raw90k)}${measuredN === 90_000 ? '' : '*'} · 1M ${fmt.ms(raw1m)}*`,
      ratio: `1M/1k ${fmt.x(k1m / k1)}; 1M kumo/raw ${(k1m / raw1m).toExponential(1)}`,
      target: '1M < 50 ms and <= 2x 1k',
      status: passIf(ok),
      notes:
        `kumo: Fastify inject into buildApp (no socket), ${reps} interleaved rounds after 10 warm-ups; p95 1k ${fmt.ms(p95(1_000))}, 90k ${fmt.ms(p95(90_000))}, 1M ${fmt.ms(p95(1_000_000))}. ` +
        `Raw: addBulk in chunks of 1,000 with kumo's task options; * = scaled linearly from ${fmt.int(measuredN)} jobs measured in ${fmt.ms(rawMeasured)} (1M raw jobs would take minutes).`,
      data: {
        reps,
        kumoMs: Object.fromEntries(times),
        raw1kMs: raw1k,
        rawMeasuredN: measuredN,
        rawMeasuredMs: rawMeasured,
        raw90kMs: raw90k,
        raw1mMs: raw1m,
      },
    },
  ];
}
