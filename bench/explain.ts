import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep, type KumoOptions } from './lib/kumo';
import { cpuMeter } from './lib/redis-stats';
import { getRequests } from './get';
import { ingest } from './ingest';
import { fmt, type Row } from './lib/report';

/**
 * Diagnostic, not a row: why end-to-end throughput is what it is. Runs the e2e setup with the
 * feeder's work timed (each feed call: how long, how many tasks) and then with one knob changed
 * at a time, by runtime override in this process only (no source change):
 *   window     the feeder's window forced to 5,000 tasks (Feeder.window)
 *   interval   the feed loop every 10 ms instead of 100 ms (SchedulerOptions.feedIntervalMs)
 *   flush      each worker's ProgressReporter flushing after 1 ms instead of 10 ms
 *   all        the three together
 *   feed again   the feed loop back in 5 ms whenever it added tasks (as if starved)
 *   no wait      (unsafe, an upper bound only) a task does not wait for its outcome to be on the bus
 */
interface Variant {
  name: string;
  scheduler?: KumoOptions['schedulerOptions'];
  window?: number;
  flushMs?: number;
  feedAgain?: boolean;
  noWait?: boolean;
  /** Workers as 2 OS processes (as npm start runs them) instead of 2 agents in this process. */
  processes?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'as is' },
  { name: 'window 5000', window: 5000 },
  { name: 'feed every 10 ms', scheduler: { feedIntervalMs: 10 } },
  { name: 'reporter flush 1 ms', flushMs: 1 },
  { name: 'all three', window: 5000, scheduler: { feedIntervalMs: 10 }, flushMs: 1 },
  { name: 'feed again', feedAgain: true },
  { name: 'no wait', noWait: true },
  { name: 'feed again + no wait', feedAgain: true, noWait: true },
  { name: 'worker processes', processes: true },
];

export async function explain(ctx: BenchContext): Promise<Row[]> {
  const sections = (process.env.BENCH_EXPLAIN ?? 'e2e,get,ingest').split(',');
  if (sections.includes('e2e')) await explainE2e(ctx);
  if (sections.includes('get')) await explainGet(ctx);
  if (sections.includes('ingest')) await explainIngest(ctx);
  return [];
}

/**
 * GET /v1/jobs/:id as is, then with the API server patched at runtime (bench/lib/server-child.ts):
 * `scripts` (no BullMQ scripts on the API's command connection), `direct` (and no ioredis Pipeline in
 * JobStore.getMany for one id), `auto` (and auto-pipelining on that connection), `coalesce` (and
 * concurrent reads of one job sharing one read).
 */
async function explainGet(ctx: BenchContext): Promise<void> {
  const lines: string[] = [];
  for (const variant of (process.env.BENCH_GET_VARIANTS ?? 'as is,scripts,direct,auto,coalesce').split(',')) {
    const [row] = await getRequests(ctx, {
      rounds: 2,
      seconds: ctx.quick ? 2 : 3,
      ...(variant !== 'as is' ? { variant } : {}),
    });
    lines.push(`${variant.padEnd(10)} ${row!.kumo} vs ${row!.baseline}: ${row!.ratio}`);
    ctx.log(lines.at(-1)!);
  }
  console.log(`\nGET /v1/jobs/:id, 50 connections:\n${lines.join('\n')}\n`);
}

/** Ingestion with a start and a success per task, against a success only (the start dropped). */
async function explainIngest(ctx: BenchContext): Promise<void> {
  const tasks = ctx.quick ? 25_000 : 100_000;
  const lines: string[] = [];
  for (const withStarts of [true, false]) {
    const [row] = await ingest(ctx, { tasks, withStarts });
    const d = row!.data as { reachedMs: number; cpu: { node: number; redis: number }; calls: { total: number } };
    lines.push(
      `${withStarts ? 'start + success' : 'success only   '} ${fmt.int(tasks)} tasks in ${fmt.ms(d.reachedMs)} = ${fmt.int((tasks / d.reachedMs) * 1000)} tasks/s; ` +
        `Redis commands ${(d.calls.total / tasks).toFixed(2)}/task; CPU node ${d.cpu.node.toFixed(2)}, redis ${d.cpu.redis.toFixed(2)}`,
    );
    ctx.log(lines.at(-1)!);
  }
  console.log(`\ningestion of finished tasks:\n${lines.join('\n')}\n`);
}

async function explainE2e(ctx: BenchContext): Promise<void> {
  const tasks = Number(process.env.BENCH_EXPLAIN_TASKS ?? (ctx.quick ? 5_000 : 20_000));
  const only = process.env.BENCH_VARIANTS?.split(',');
  const lines: string[] = [];
  for (const v of VARIANTS.filter((x) => !only || only.includes(x.name))) {
    await ctx.admin.flushall();
    const kumo = await Kumo.start({
      redisUrl: ctx.redisUrl,
      prefix: benchPrefix('explain'),
      ...(v.processes ? { workerProcesses: 2 } : { agents: 2 }),
      slots: 32,
      ...(v.scheduler ? { schedulerOptions: v.scheduler } : {}),
    });
    const feeds: { ms: number; added: number; waiting: number }[] = [];
    try {
      const feeder = kumo.scheduler!.feeder as unknown as {
        window: (p: unknown) => number;
        feed: (p: unknown) => Promise<{ added: number; starved: boolean }>;
        sink: { waiting: (pool: string) => Promise<number> };
      };
      if (v.window) feeder.window = () => v.window!;
      const original = feeder.feed.bind(feeder);
      let lastWaiting = 0;
      const waiting = feeder.sink.waiting.bind(feeder.sink);
      feeder.sink.waiting = async (pool: string) => (lastWaiting = await waiting(pool));
      feeder.feed = async (p: unknown) => {
        const t0 = performance.now();
        const r = await original(p);
        feeds.push({ ms: performance.now() - t0, added: r.added, waiting: lastWaiting });
        return v.feedAgain && r.added > 0 ? { ...r, starved: true } : r;
      };
      if (v.noWait) {
        for (const a of kumo.agents) {
          const reporter = (
            a as unknown as { reporter: { add: (e: unknown) => void; addAndWait: (e: unknown) => Promise<void> } }
          ).reporter;
          reporter.addAndWait = async (e) => reporter.add(e);
        }
      }
      if (v.flushMs !== undefined) {
        for (const a of kumo.agents)
          (a as unknown as { reporter: { opts: { flushMs?: number } } }).reporter.opts.flushMs = v.flushMs;
      }
      await sleep(300);
      feeds.length = 0;
      const meter = await cpuMeter(ctx.admin);
      const { id } = await kumo.submit(noopSpec(tasks, `explain-${v.name}`));
      const t0 = performance.now();
      await kumo.waitForState(id, ['succeeded', 'failed'], 300_000);
      const ms = performance.now() - t0;
      const cpu = await meter.stop();
      const active = feeds.filter((f) => f.added > 0);
      const empty = feeds.filter((f) => f.added > 0 && f.waiting === 0).length;
      const line =
        `${v.name.padEnd(20)} ${fmt.int((tasks / ms) * 1000).padStart(6)}/s   feed calls ${feeds.length}, ${active.length} added tasks ` +
        `(mean ${fmt.int(active.reduce((s, f) => s + f.added, 0) / Math.max(1, active.length))} tasks, ${fmt.ms(active.reduce((s, f) => s + f.ms, 0) / Math.max(1, active.length))} each; ` +
        `queue found empty ${empty} times); CPU node ${cpu.node.toFixed(2)}, redis ${cpu.redis.toFixed(2)} cores`;
      lines.push(line);
      ctx.log(line);
    } finally {
      await kumo.stop();
    }
  }
  console.log(`\nend-to-end, ${fmt.int(tasks)} no-op tasks, 2 agents x 32 slots:\n${lines.join('\n')}\n`);
}
