import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { jobSpecSchema, JobStore } from '@kumo/shared';
import { startChild } from './lib/child';
import type { BenchContext } from './lib/context';
import { ADMIN_TOKEN, benchPrefix, Kumo, noopSpec } from './lib/kumo';
import { commandStats, cpuMeter, resetStats, sumCalls } from './lib/redis-stats';
import { fmt, passIf, type Row } from './lib/report';

interface CannonResult {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** The server's user+system CPU per answered request, microseconds. */
  cpuUsPerRequest: number;
}

async function serverCpuUs(url: string): Promise<number> {
  const u = (await (await fetch(new URL('/__bench/cpu', url))).json()) as NodeJS.CpuUsage;
  return u.user + u.system;
}

async function cannon(url: string, seconds: number): Promise<CannonResult> {
  const c0 = await serverCpuUs(url);
  const r = await autocannon({
    url,
    connections: 50,
    duration: seconds,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const cpu = (await serverCpuUs(url)) - c0;
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    cpuUsPerRequest: cpu / Math.max(1, r.requests.total),
  };
}

/**
 * Row 6: GET /v1/jobs/:id requests/s under 50 connections (autocannon in this process, the server in
 * a child) against a bare Fastify route answering the same JSON. A running 90,000-batch job with some
 * progress; kumo and bare alternate (`rounds` each, warm-up first), the mean is reported.
 */
export async function getRequests(
  ctx: BenchContext,
  opts: { variant?: string; rounds?: number; seconds?: number } = {},
): Promise<Row[]> {
  const seconds = opts.seconds ?? (ctx.quick ? 2 : 5);
  const rounds = opts.rounds ?? (ctx.quick ? 1 : 2);
  await ctx.admin.flushall();
  const prefix = benchPrefix('get');
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix, scheduler: false, api: false });
  const store = new JobStore(kumo.redis, { prefix });
  const { job } = await store.create({ spec: jobSpecSchema.parse(noopSpec(90_000, 'bench-get')), user: 'bench' });
  await store.applyEvents(
    job.id,
    'bench',
    Array.from({ length: 200 }, (_, i) => ({ t: 'ok' as const, j: job.id, i, a: 1, w: 'w', at: Date.now(), d: 1000 })),
  );
  const current = await store.get(job.id);
  await kumo.stop();
  const bodyFile = join(tmpdir(), `${prefix}-job.json`);
  writeFileSync(bodyFile, JSON.stringify(current));

  const variant: Record<string, string> = opts.variant ? { BENCH_GET_VARIANT: opts.variant } : {};
  const kumoServer = await startChild(
    './server-child.ts',
    { BENCH_MODE: 'kumo', BENCH_REDIS_URL: ctx.redisUrl, BENCH_PREFIX: prefix, ...variant },
    /^LISTENING \d+/,
  );
  const bareServer = await startChild(
    './server-child.ts',
    { BENCH_MODE: 'bare', BENCH_BODY_FILE: bodyFile },
    /^LISTENING \d+/,
  );
  const urlOf = (line: string): string => `http://127.0.0.1:${line.split(' ')[1]}/v1/jobs/${job.id}`;
  const kumoUrl = urlOf(kumoServer.line);
  const bareUrl = urlOf(bareServer.line);
  const k: CannonResult[] = [];
  const b: CannonResult[] = [];
  const kumoCpu: number[] = [];
  const perRequest: { total: number; byCommand: Record<string, number> }[] = [];
  try {
    const check = await fetch(kumoUrl, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const kumoBody = await check.text();
    const bareBody = await (await fetch(bareUrl)).text();
    if (check.status !== 200) throw new Error(`GET answered ${check.status}: ${kumoBody}`);
    ctx.log(`GET bodies: kumo ${kumoBody.length} B, bare ${bareBody.length} B`);
    await cannon(kumoUrl, 1);
    await cannon(bareUrl, 1);
    for (let r = 0; r < rounds; r++) {
      await resetStats(ctx.admin);
      const meter = await cpuMeter(ctx.admin);
      k.push(await cannon(kumoUrl, seconds));
      kumoCpu.push((await meter.stop()).redis);
      const calls = sumCalls(await commandStats(ctx.admin));
      const requests = k.at(-1)!.rps * seconds;
      perRequest.push({
        total: calls.total / requests,
        byCommand: Object.fromEntries(
          Object.entries(calls.byCommand)
            .slice(0, 6)
            .map(([c, n]) => [c, +(n / requests).toFixed(3)]),
        ),
      });
      b.push(await cannon(bareUrl, seconds));
    }
  } finally {
    await Promise.all([kumoServer.stop(), bareServer.stop()]);
  }
  const mean = (xs: { rps: number }[]): number => xs.reduce((s, x) => s + x.rps, 0) / xs.length;
  const cpuPer = (xs: CannonResult[]): number => xs.reduce((s, x) => s + x.cpuUsPerRequest, 0) / xs.length;
  const kr = mean(k);
  const br = mean(b);
  const bad = k.reduce((s, x) => s + x.non2xx + x.errors, 0);
  const ratio = kr / br;
  ctx.log(`GET: kumo ${fmt.int(kr)} req/s (p99 ${k[0]!.p99} ms), bare ${fmt.int(br)} req/s (p99 ${b[0]!.p99} ms)`);
  return [
    {
      n: 6,
      id: 'get',
      what: 'GET /v1/jobs/:id req/s, 50 connections',
      kumo: `${fmt.int(kr)} req/s (${fmt.int(cpuPer(k))} µs CPU/req)`,
      baseline: `${fmt.int(br)} req/s (${fmt.int(cpuPer(b))} µs CPU/req; bare Fastify, same JSON)`,
      ratio: `${fmt.x(ratio)} (CPU/req ${fmt.x(cpuPer(b) / cpuPer(k))})`,
      target: '>= 0.6x bare',
      status: passIf(ratio >= 0.6 && bad === 0),
      notes: `autocannon in the bench process, each server alone in a child process, ${rounds} x ${seconds} s each, alternating, after a 1 s warm-up; kumo p99 ${k.map((x) => x.p99).join('/')} ms, bare p99 ${b.map((x) => x.p99).join('/')} ms; kumo non-2xx + errors: ${bad}. While kumo was loaded: redis-server CPU ${kumoCpu.map((c) => c.toFixed(2)).join('/')} cores, Redis commands per request ${perRequest.map((p) => `${p.total.toFixed(2)} (${JSON.stringify(p.byCommand)})`).join(', ')}.`,
      data: {
        seconds,
        rounds,
        kumo: k,
        bare: b,
        ratio,
        cpuRatio: cpuPer(b) / cpuPer(k),
        kumoRedisCpu: kumoCpu,
        perRequest,
      },
    },
  ];
}
