import { wallClock } from '@kumo/shared';
import { HttpWorkerAgent } from '@kumo/worker';
import type { BenchContext } from './lib/context';
import { taskHost } from '../test/support/task-host';
import { benchPrefix, Kumo, logger, noopSpec, sleep } from './lib/kumo';
import { cpuMeter } from './lib/redis-stats';

export interface HttpsE2eResult {
  ms: number;
  rate: number;
  cpu: { node: number; redis: number };
  /** Tasks each agent ran. */
  byAgent: number[];
}

/**
 * Row 11's measurement: the same no-op job as row 2's kumo side, run by HTTPS worker agents instead of
 * Redis-side ones. The API listens on a loopback socket (plain HTTP: TLS is not measured); `agents`
 * HttpWorkerAgents x `slots` in this process lease, heartbeat and complete through the lease API
 * (services/api/src/workers/lease-broker.ts), as contributors' machines do. Timed from the submit's
 * answer to state `succeeded`, as row 2 is.
 */
export async function httpsE2e(
  ctx: BenchContext,
  tasks: number,
  agents: number,
  slots: number,
  timeoutMs: number,
): Promise<HttpsE2eResult> {
  await ctx.admin.flushall();
  // The pool's size is what the feeder's window follows: the same as row 2's (agents x slots).
  const kumo = await Kumo.start({
    redisUrl: ctx.redisUrl,
    prefix: benchPrefix('https-e2e'),
    agents: 0,
    poolMax: agents,
    slots,
  });
  const workers: HttpWorkerAgent[] = [];
  try {
    const controlUrl = await kumo.listen();
    for (let n = 0; n < agents; n++) {
      const id = `bench-https-${n}`;
      // idlePollMs 50: an agent that found nothing before the submit asks again soon, not a second later.
      const agent = new HttpWorkerAgent({
        controlUrl,
        token: await kumo.workerToken(id),
        pool: 'bench',
        id,
        slots,
        drainMs: 2_000,
        ...taskHost(),
        clock: wallClock,
        logger,
        idlePollMs: 50,
      });
      await agent.start();
      workers.push(agent);
    }
    await sleep(300);
    const meter = await cpuMeter(ctx.admin);
    const { id } = await kumo.submit(noopSpec(tasks, 'bench-https-e2e'));
    const t0 = performance.now();
    await kumo.waitForState(id, ['succeeded', 'failed'], timeoutMs);
    const ms = performance.now() - t0;
    const cpu = await meter.stop();
    const job = await kumo.jobs.get(id);
    if (!job || job.state !== 'succeeded' || job.progress.succeeded !== tasks)
      throw new Error(`kumo HTTPS e2e: job ended ${JSON.stringify(job?.progress)}`);
    const byAgent = workers.map((w) => w.stats.succeeded);
    if (byAgent.reduce((s, n) => s + n, 0) !== tasks)
      throw new Error(`kumo HTTPS e2e: the agents ran ${byAgent.join(' + ')} tasks, not ${tasks}`);
    return { ms, rate: (tasks / ms) * 1000, cpu, byAgent };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop({ handBackNow: true })));
    await kumo.stop();
  }
}
