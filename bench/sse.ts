import { request, type ClientRequest } from 'node:http';
import { jobSpecSchema, JobStore } from '@kumo/shared';
import { startChild } from './lib/child';
import type { BenchContext } from './lib/context';
import { ADMIN_TOKEN, benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { fmt, median, passIf, type Row } from './lib/report';

interface Watcher {
  req: ClientRequest;
  /** Highest `succeeded` seen in a progress event, and when. */
  succeeded: number;
  seenAt: number;
}

/** Opens one SSE stream; resolves once the first progress event arrived. */
function watch(url: string, onProgress: (w: Watcher) => void): Promise<Watcher> {
  return new Promise((resolve, reject) => {
    const w: Watcher = { req: undefined as unknown as ClientRequest, succeeded: -1, seenAt: 0 };
    let buf = '';
    let first = true;
    w.req = request(
      url,
      { agent: false, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/event-stream' } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (!block.startsWith('event: progress')) continue;
            const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { succeeded: number };
            if (data.succeeded > w.succeeded) {
              w.succeeded = data.succeeded;
              w.seenAt = performance.now();
              onProgress(w);
            }
            if (first) {
              first = false;
              resolve(w);
            }
          }
        });
        res.on('error', () => undefined);
      },
    );
    w.req.on('error', reject);
    w.req.end();
  });
}

/**
 * Row 7: 1,000 SSE watchers of one job on the real API (a child process); a task event is applied
 * (the ingester's own call: JobStore.applyEvents, which publishes the change); timed from the call to
 * the moment the last of the watchers has the new count. `changes` times, 1 s apart.
 */
export async function sse(ctx: BenchContext): Promise<Row[]> {
  const watchers = 1000;
  const changes = ctx.quick ? 3 : 8;
  await ctx.admin.flushall();
  const prefix = benchPrefix('sse');
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix, scheduler: false, api: false });
  const store = new JobStore(kumo.redis, { prefix });
  const { job } = await store.create({ spec: jobSpecSchema.parse(noopSpec(90_000, 'bench-sse')), user: 'bench' });
  const server = await startChild(
    './server-child.ts',
    { BENCH_MODE: 'kumo', BENCH_REDIS_URL: ctx.redisUrl, BENCH_PREFIX: prefix },
    /^LISTENING \d+/,
  );
  const url = `http://127.0.0.1:${server.line.split(' ')[1]}/v1/jobs/${job.id}/events`;
  const all: Watcher[] = [];
  const latencies: number[] = [];
  let missed = 0;
  let connectMs: number;
  try {
    let target = 0;
    let waiting = 0;
    let allSeen: (() => void) | undefined;
    const onProgress = (w: Watcher): void => {
      if (target > 0 && w.succeeded === target && --waiting === 0) allSeen?.();
    };
    const c0 = performance.now();
    for (let from = 0; from < watchers; from += 100) {
      all.push(
        ...(await Promise.all(Array.from({ length: Math.min(100, watchers - from) }, () => watch(url, onProgress)))),
      );
    }
    connectMs = performance.now() - c0;
    ctx.log(`${all.length} SSE watchers connected in ${fmt.ms(connectMs)}`);
    await sleep(500);
    for (let c = 1; c <= changes; c++) {
      target = c;
      waiting = all.length;
      const seen = new Promise<boolean>((resolve) => {
        allSeen = () => resolve(true);
        setTimeout(() => resolve(false), 10_000);
      });
      const t0 = performance.now();
      await store.applyEvents(job.id, 'bench', [{ t: 'ok', j: job.id, i: c - 1, a: 1, w: 'w', at: Date.now(), d: 1 }]);
      const ok = await seen;
      const last = Math.max(...all.map((w) => (w.succeeded >= c ? w.seenAt : Infinity)));
      if (!ok) missed += all.filter((w) => w.succeeded < c).length;
      latencies.push(last - t0);
      await sleep(1000);
    }
  } finally {
    for (const w of all) w.req.destroy();
    await server.stop();
    await kumo.stop();
  }
  const worst = Math.max(...latencies);
  ctx.log(`SSE: last of ${watchers} watchers updated after ${latencies.map((l) => fmt.ms(l)).join(', ')}`);
  return [
    {
      n: 7,
      id: 'sse',
      what: `${fmt.int(watchers)} SSE watchers: change -> last watcher updated`,
      kumo: `worst ${fmt.ms(worst)}, median ${fmt.ms(median(latencies))}`,
      baseline: '-',
      ratio: '-',
      target: 'all within 1 s',
      status: passIf(worst <= 1000 && missed === 0),
      notes: `${changes} changes 1 s apart, each one task event applied with JobStore.applyEvents (the ingester's call); the API in a child process, watchers in the bench process; connecting ${watchers} took ${fmt.ms(connectMs)}; watchers that missed a change: ${missed}. The hub coalesces changes for 200 ms by design.`,
      data: { watchers, changes, latencies, worst, missed, connectMs },
    },
  ];
}
