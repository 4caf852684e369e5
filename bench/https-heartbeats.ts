import { jobSpecSchema } from '@kumo/shared';
import { startChild } from './lib/child';
import type { BenchContext } from './lib/context';
import { ADMIN_TOKEN, benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { cpuMeter } from './lib/redis-stats';
import { fmt, passIf, type Row } from './lib/report';

async function serverCpuUs(url: string): Promise<number> {
  const u = (await (await fetch(new URL('/__bench/cpu', url))).json()) as NodeJS.CpuUsage;
  return u.user + u.system;
}

/**
 * Row 12: 2,000 HTTPS workers heartbeating their leases at the API. The API alone in a child process
 * (server-child.ts, the real buildApp, the lease broker's default 60 s lease), the Scheduler in this one
 * feeding the pool's queue; the load in another child (https-heartbeat-load.ts): 2,000 light clients,
 * each with its own worker token and connection, one leased task each, renewed every lease / 3 as the
 * HTTPS agent renews it. Measured: the API process's CPU (process.cpuUsage, read through /__bench/cpu)
 * over whole heartbeat periods, as CPU-seconds per second.
 */
export async function httpsHeartbeats(ctx: BenchContext): Promise<Row[]> {
  const workers = 2000;
  await ctx.admin.flushall();
  const prefix = benchPrefix('https-hb');
  // One slot per worker, as 2,000 single-GPU machines; the job is large enough never to finish.
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix, api: false, poolMax: workers, slots: 1 });
  await kumo.jobs.create({ spec: jobSpecSchema.parse(noopSpec(10_000_000, 'bench-https-heartbeats')), user: 'bench' });
  const server = await startChild(
    './server-child.ts',
    { BENCH_MODE: 'kumo', BENCH_REDIS_URL: ctx.redisUrl, BENCH_PREFIX: prefix },
    /^LISTENING \d+/,
  );
  const apiUrl = `http://127.0.0.1:${server.line.split(' ')[1]}`;
  let cpuUs: number;
  let wallMs: number;
  let redisCores: number;
  let idleCores: number;
  let ready: { leaseSeconds: number; everyMs: number };
  let done: Record<string, number>;
  try {
    // Whole periods: every worker beats the same number of times inside the window.
    const periods = ctx.quick ? 1 : 2;
    const load = await startChild(
      './https-heartbeat-load.ts',
      {
        BENCH_API_URL: apiUrl,
        BENCH_ADMIN_TOKEN: ADMIN_TOKEN,
        BENCH_WORKERS: String(workers),
        BENCH_PERIODS: String(periods),
      },
      /^READY /,
      300_000,
    );
    ready = JSON.parse(load.line.slice('READY '.length)) as typeof ready;
    const exited = new Promise((r) => load.proc.once('exit', r));
    const c0 = await serverCpuUs(apiUrl);
    const meter = await cpuMeter(ctx.admin);
    const t0 = performance.now();
    await exited;
    wallMs = performance.now() - t0;
    cpuUs = (await serverCpuUs(apiUrl)) - c0;
    redisCores = (await meter.stop()).redis;
    const m = /DONE (.*)/.exec(load.output());
    if (!m) throw new Error(`the heartbeat load ended without its summary: ${load.output()}`);
    done = JSON.parse(m[1]!) as Record<string, number>;
    // The API's own CPU with no load, over as long again as the load is worth: what heartbeats do not cost.
    const i0 = await serverCpuUs(apiUrl);
    const idleStart = performance.now();
    await sleep(ctx.quick ? 3000 : 5000);
    idleCores = ((await serverCpuUs(apiUrl)) - i0) / 1000 / (performance.now() - idleStart);
  } finally {
    await server.stop();
    await kumo.stop();
  }
  const cores = cpuUs / 1000 / wallMs;
  const beatsPerSecond = (done.beats ?? 0) / (wallMs / 1000);
  const usPerBeat = cpuUs / Math.max(1, done.beats ?? 0);
  // Each heartbeat's own cost: the API's CPU less what it spends idle, over the heartbeats.
  const marginalUsPerBeat = ((cores - idleCores) * wallMs * 1000) / Math.max(1, done.beats ?? 0);
  ctx.log(
    `https heartbeats: API CPU ${cores.toFixed(3)} cores (idle ${idleCores.toFixed(3)}), ${fmt.int(beatsPerSecond)} beats/s, ${fmt.int(marginalUsPerBeat)} µs CPU/beat above idle; load ${JSON.stringify(done)}`,
  );
  return [
    {
      n: 12,
      id: 'https-heartbeats',
      what: `${fmt.int(workers)} HTTPS workers heartbeating their leases (every ${fmt.ms(ready.everyMs)})`,
      kumo: `API CPU ${cores.toFixed(3)} CPU-s/s (${fmt.int(usPerBeat)} µs a heartbeat, ${fmt.int(marginalUsPerBeat)} above idle)`,
      baseline: '-',
      ratio: '-',
      target: '< 0.5 CPU-s/s',
      status: passIf(cores < 0.5 && (done.lost ?? 0) === 0 && (done.failures ?? 0) === 0),
      notes:
        `The API alone in a child process (lease ${ready.leaseSeconds} s); ${fmt.int(done.workers ?? 0)} light clients in another, each with its own worker token and keep-alive connection (plain HTTP on loopback: TLS not measured), one leased task each, ` +
        `POST /v1/workers/heartbeat every lease / 3 as the HTTPS agent sends it, spread evenly: ${fmt.int(done.beats ?? 0)} heartbeats in ${fmt.ms(wallMs)} (${fmt.int(beatsPerSecond)}/s), ` +
        `held ${fmt.int(done.held ?? 0)}, lost ${fmt.int(done.lost ?? 0)}, failed ${fmt.int(done.failures ?? 0)}; latency p50 ${fmt.ms(done.p50Ms ?? NaN)}, p99 ${fmt.ms(done.p99Ms ?? NaN)}. ` +
        `API user+system CPU ${fmt.int(cpuUs / 1000)} ms over the window, ${idleCores.toFixed(3)} CPU-s/s idle after it; redis-server ${redisCores.toFixed(3)} cores.`,
      data: {
        workers,
        wallMs,
        cpuUs,
        cores,
        idleCores,
        usPerBeat,
        marginalUsPerBeat,
        beatsPerSecond,
        redisCores,
        load: done,
        ...ready,
      },
    },
  ];
}
