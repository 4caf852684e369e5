import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { JOB_STATES, queueName } from '@kumo/shared';
import { Queue } from 'bullmq';
import { READERS } from '../plugins/auth';

/** Prometheus metrics, read from Redis at scrape time so every API process reports the same truth. */
export function metricsRoutes(app: FastifyInstance): void {
  const { jobs, pools, fleet, redis, keys } = app.kumo;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kumo_api_' });
  const queues = new Map<string, Queue>();
  const queueOf = (pool: string): Queue => {
    let q = queues.get(pool);
    if (!q) queues.set(pool, (q = new Queue(queueName(pool), { connection: redis, prefix: keys.queuePrefix() })));
    return q;
  };
  app.addHook('onClose', async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
  });

  new Gauge({
    name: 'kumo_active_jobs',
    help: 'Jobs not yet ended, by pool and state',
    labelNames: ['pool', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await pools.list()) {
        const recs = await jobs.getMany(await jobs.activeJobIds(p.name));
        for (const s of JOB_STATES) this.set({ pool: p.name, state: s }, recs.filter((r) => r?.state === s).length);
      }
    },
  });
  new Gauge({
    name: 'kumo_active_tasks',
    help: 'Tasks of jobs not yet ended, by pool and task state',
    labelNames: ['pool', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await pools.list()) {
        const recs = await jobs.getMany(await jobs.activeJobIds(p.name));
        const sum = { queued: 0, running: 0, succeeded: 0, failed: 0 };
        for (const r of recs) if (r) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += r.progress[k];
        for (const [k, v] of Object.entries(sum)) this.set({ pool: p.name, state: k }, v);
      }
    },
  });
  new Gauge({
    name: 'kumo_queue_waiting_tasks',
    help: 'Tasks fed to the pool queue and not yet picked up',
    labelNames: ['pool'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await pools.list()) this.set({ pool: p.name }, await queueOf(p.name).getWaitingCount());
    },
  });
  new Gauge({
    name: 'kumo_vms',
    help: 'Live VMs (or local worker processes) by pool and state',
    labelNames: ['pool', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await pools.list()) {
        const counts = new Map<string, number>();
        for (const vm of await fleet.live(p.name)) counts.set(vm.state, (counts.get(vm.state) ?? 0) + 1);
        for (const [s, n] of counts) this.set({ pool: p.name, state: s }, n);
      }
    },
  });

  app.get('/metrics', { config: { roles: READERS }, schema: { hide: true } }, async (_req, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
