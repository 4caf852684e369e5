import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  createRedis,
  gangOf,
  poolHourlyPrice,
  VirtualClock,
  simulationInputSchema,
  type Logger,
  type SimulationInputRaw,
  type SimulationPoint,
  type SimulationReport,
  type TaskEvent,
} from '@kumo/shared';
import type { FedTask } from '../task-sink';
import { MinHeap } from './min-heap';
import { Rng } from './rng';
import type { SimTaskRun, SimVm } from './sim-provider';
import { deletePrefix } from './sim-keys';
import { SimGang } from './sim-gang';
import { createSimWorld, HOUR, POOL } from './sim-world';

interface Run extends SimTaskRun {
  vm: SimVm;
  task: FedTask;
  dead: boolean;
}

/**
 * Rehearses a job on virtual time: the real feeder, autoscaler, fleet-event handling and exact counting
 * (the same classes and Lua scripts as production, on a Redis prefix of its own), against a simulated
 * fleet whose VMs boot, run tasks for seeded random durations, and get preempted. The same input and
 * seed give the same report.
 */
export async function runSimulation(
  raw: SimulationInputRaw,
  opts: { redisUrl: string; logger: Logger },
): Promise<SimulationReport> {
  const input = simulationInputSchema.parse(raw);
  const wallStart = performance.now();
  const rng = new Rng(input.seed);
  const clock = new VirtualClock(Date.UTC(2024, 0, 1));
  const t0 = clock.now();
  const res = input.resolutionSeconds * 1000;
  const onGrid = (t: number): number => t0 + Math.ceil((t - t0) / res) * res;
  // Task ends round to the nearest grid point (no bias in the work done), never to now or before.
  const endOnGrid = (now: number, t: number): number => Math.max(now + res, t0 + Math.round((t - t0) / res) * res);
  const prefix = `sim-${randomBytes(5).toString('hex')}`;
  const log = opts.logger.child({ component: 'simulation', prefix }, { level: 'warn' });
  const redis = createRedis(opts.redisUrl, 'command', 'simulation');
  try {
    const { pool, jobs, job, bus, fleet, registry, sink, feeder, autoscaler, provider, provisioner } =
      await createSimWorld({ redis, prefix, clock, rng, input, log, t0 });
    const total = job.progress.total;
    const maxAttempts = input.job.retry.maxAttempts ?? 3;
    const usdPerSlotMs = poolHourlyPrice(pool) / pool.slotsPerVm / HOUR;

    const ends = new Map<number, Run[]>();
    const times = new MinHeap();
    const attempts = new Map<string, number>();
    let events: TaskEvent[] = [];
    let finals = 0;
    let preemptions = 0;
    let retries = 0;
    let busyMs = 0;
    let peakVms = 0;
    let running = 0;
    const series: SimulationPoint[] = [];
    let nextScale = t0;
    let nextSample = t0;
    const deadline = t0 + input.maxSimulatedHours * HOUR;
    let jobDone = false;

    const duration = (): number => {
      const { mean, jitter, distribution } = input.taskSeconds;
      const f = distribution === 'normal' ? 1 + jitter * rng.normal() : 1 + jitter * (2 * rng.next() - 1);
      return Math.max(0.001, mean * Math.max(0.05, f)) * 1000;
    };
    const beat = async (vm: SimVm, now: number): Promise<void> => {
      vm.lastBeat = now;
      await registry.beat({
        id: vm.name,
        pool: POOL,
        slots: vm.slots,
        running: vm.running.length,
        ...(vm.idleSince !== undefined ? { idleSince: vm.idleSince } : {}),
        state: 'running',
      });
    };
    const endRun = (r: Run, now: number): number => {
      r.vm.running = r.vm.running.filter((x) => x !== r);
      running--;
      const d = now - r.startedAt;
      r.vm.busyMs += d;
      busyMs += d;
      return d;
    };
    /** Handed back, no attempt used: a preempted run, or a gang rank whose generation ended. */
    const release = (r: Run, now: number): void => {
      r.dead = true;
      const d = endRun(r, now);
      events.push({ t: 'rel', j: r.jobId, i: r.index, a: r.attempt, w: r.vm.name, at: now, d });
      sink.pushFront(r.task);
      retries++;
    };
    const schedule = (r: Run): void => {
      let list = ends.get(r.endsAt);
      if (!list) {
        ends.set(r.endsAt, (list = []));
        times.push(r.endsAt);
      }
      list.push(r);
    };
    const gangSpec = gangOf(input.job);
    const gang = gangSpec ? new SimGang<Run>(gangSpec) : undefined;

    for (;;) {
      const now = clock.now();
      // Preemptions: running tasks go back to the front of the queue, no attempt used.
      let preempted = false;
      for (const vm of provider.vms.values()) {
        if (vm.preempted || vm.preemptAt > now) continue;
        vm.preempted = true;
        preempted = true;
        preemptions++;
        for (const r of [...(vm.running as Run[])]) {
          release(r, now);
          for (const o of gang?.broken(r) ?? []) if (!o.dead) release(o, now);
        }
      }
      if (preempted) await provisioner.reconcile();

      // Tasks that end now.
      const due = ends.get(now);
      if (due) {
        ends.delete(now);
        for (const r of due) {
          if (r.dead) continue;
          const d = endRun(r, now);
          const base = { j: r.jobId, i: r.index, a: r.attempt, w: r.vm.name, at: now, d };
          if (!r.fails) {
            events.push({ ...base, t: 'ok' });
            gang?.finished(r);
            finals++;
            continue;
          }
          for (const o of gang?.broken(r) ?? []) if (!o.dead) release(o, now);
          if (r.attempt < maxAttempts) {
            events.push({
              ...base,
              t: 'r',
              err: { code: 'TASK_EXIT_NONZERO', message: 'simulated failure', retryable: true },
            });
            attempts.set(`${r.jobId}.${r.index}`, r.attempt + 1);
            sink.pushBack(r.task);
            retries++;
          } else {
            events.push({
              ...base,
              t: 'f',
              err: { code: 'TASK_EXIT_NONZERO', message: 'simulated failure', retryable: true },
            });
            finals++;
          }
        }
      }

      if (!jobDone) await feeder.feedPool(pool);

      // Ready VMs take tasks into their free slots.
      for (const vm of provider.vms.values()) {
        if (vm.preempted || now < vm.readyAt) continue;
        const wasIdle = vm.idleSince !== undefined || vm.lastBeat === -Infinity;
        while (vm.running.length < vm.slots) {
          const task = sink.take();
          if (!task) break;
          const key = `${task.jobId}.${task.index}`;
          const attempt = attempts.get(key) ?? 1;
          const r: Run = {
            jobId: task.jobId,
            index: task.index,
            attempt,
            startedAt: now,
            endsAt: Infinity,
            fails: false,
            vm,
            task,
            dead: false,
          };
          vm.running.push(r);
          running++;
          // A gang's ranks hold their VMs until the last one is taken, then run together, as long as
          // each other; a failing trainer fails halfway, ending the generation for all.
          const starting = gang ? gang.join(r) : [r];
          const d = starting.length > 0 ? duration() : 0;
          const fails = starting.length > 0 && rng.next() < input.taskFailureRate;
          for (const g of starting) {
            g.endsAt = endOnGrid(now, now + (fails && g === starting[0] && gang ? d / 2 : d));
            g.fails = fails && g === starting[0];
            schedule(g);
          }
          events.push({ t: 's', j: r.jobId, i: r.index, a: attempt, w: vm.name, at: now });
        }
        const idle = vm.running.length === 0;
        if (idle && vm.idleSince === undefined) vm.idleSince = now;
        if (!idle) vm.idleSince = undefined;
        if (wasIdle !== idle || now - vm.lastBeat >= HOUR) await beat(vm, now);
      }

      if (events.length > 0) {
        await jobs.applyEvents(job.id, POOL, events, usdPerSlotMs, 'simulation');
        events = [];
      }
      if (finals >= total) jobDone = true;

      if (now >= nextScale) {
        await provisioner.reconcile();
        await autoscaler.scalePool(pool);
        while (nextScale <= now) nextScale += input.scaleIntervalSeconds * 1000;
      }
      let live = 0;
      for (const vm of provider.vms.values()) if (!vm.preempted) live++;
      peakVms = Math.max(peakVms, live);
      if (now >= nextSample) {
        series.push({
          t: Math.round((now - t0) / 1000),
          queued: total - finals - running,
          running,
          succeeded: finals,
          vms: live,
        });
        while (nextSample <= now) nextSample += input.sampleEverySeconds * 1000;
      }
      if ((jobDone && live <= pool.min) || now >= deadline) break;

      // The next moment anything happens.
      while (times.size > 0 && !ends.has(times.peek()!)) times.pop();
      let next = Math.min(times.peek() ?? Infinity, nextScale, deadline);
      for (const vm of provider.vms.values()) {
        if (vm.preempted) continue;
        if (vm.readyAt > now) next = Math.min(next, vm.readyAt);
        if (vm.preemptAt > now) next = Math.min(next, onGrid(vm.preemptAt));
      }
      if (!jobDone) next = Math.min(next, nextSample);
      await clock.advanceTo(Math.max(next, now + 1), async () => undefined);
    }

    const endPoint: SimulationPoint = {
      t: Math.round((clock.now() - t0) / 1000),
      queued: total - finals - running,
      running,
      succeeded: finals,
      vms: 0,
    };
    for (const vm of provider.vms.values()) if (!vm.preempted) endPoint.vms++;
    if (series.at(-1)?.t !== endPoint.t) series.push(endPoint);
    const final = (await jobs.get(job.id))!;
    const spend = await fleet.poolSpend(POOL);
    const end = final.finishedAt ? Date.parse(final.finishedAt) : clock.now();
    const meanMs = input.taskSeconds.mean * 1000;
    const report: SimulationReport = {
      finished: final.state === 'succeeded' || final.state === 'failed',
      jobState: final.state,
      tasks: total,
      makespanSeconds: Math.round((end - t0) / 1000),
      idealMakespanSeconds: Math.round(input.bootSeconds + (total * meanMs) / (pool.max * pool.slotsPerVm) / 1000),
      costUsd: round2(spend.costUsd),
      // Task time only, at the pool's cheapest region's price.
      idealCostUsd: round2((total * meanMs * poolHourlyPrice(pool, pool.spot, 'cheapest')) / pool.slotsPerVm / HOUR),
      jobCostUsd: round2(final.costUsd),
      vmHours: round2(spend.vmHours),
      idleVmHours: round2(Math.max(0, spend.vmHours - busyMs / HOUR)),
      preemptions,
      retries,
      vmsCreated: provider.created,
      vmsByZone: { ...provider.createdByZone },
      peakVms,
      series,
      wallSeconds: Math.round((performance.now() - wallStart) / 100) / 10,
    };
    await bus.close();
    await feeder.close();
    return report;
  } finally {
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
