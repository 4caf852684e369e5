import type { Redis } from 'ioredis';
import {
  FleetStore,
  InMemoryBus,
  JobStore,
  PoolStore,
  VirtualClock,
  WorkerRegistry,
  type Logger,
  type SimulationInput,
} from '@kumo/shared';
import { Autoscaler } from '../autoscaler';
import { Feeder } from '../feeder';
import { FleetEventsHandler } from '../fleet-events';
import type { Rng } from './rng';
import { SimProvider } from './sim-provider';
import { SimProvisioner } from './sim-provisioner';
import { SimTaskSink } from './sim-task-sink';

export const POOL = 'sim';
export const HOUR = 3_600_000;

/**
 * The production pieces a simulation runs (stores, feeder, autoscaler, fleet-event handling), wired on a
 * Redis prefix of its own against a simulated fleet; built apart from the event loop that drives them.
 */
export async function createSimWorld(ctx: {
  redis: Redis;
  prefix: string;
  clock: VirtualClock;
  rng: Rng;
  input: SimulationInput;
  log: Logger;
  t0: number;
}) {
  const { redis, prefix, clock, rng, input, log, t0 } = ctx;
  const pools = new PoolStore(redis, { prefix, clock });
  const pool = (await pools.put(POOL, input.pool)).pool;
  const jobs = new JobStore(redis, { prefix, clock });
  const { job } = await jobs.create({ spec: { ...input.job, pool: POOL }, user: 'simulation' });
  const bus = new InMemoryBus({ clock, newId: () => rng.uuid() });
  const fleet = new FleetStore(redis, { prefix, clock });
  const registry = new WorkerRegistry(redis, { prefix, clock, ttlMs: 2 * HOUR });
  const sink = new SimTaskSink();
  const feeder = new Feeder({ redis, prefix, jobs, logger: log, sink });
  const autoscaler = new Autoscaler({
    redis,
    prefix,
    bus,
    pools,
    fleet,
    workers: registry,
    clock,
    logger: log,
    randomHex: (n) => rng.hex(n),
    uuid: () => rng.uuid(),
    bootTimeoutMs: Math.max(15 * 60_000, input.bootSeconds * 4000),
  });
  await new FleetEventsHandler({ bus, fleet, clock, logger: log }).start();
  const provider = new SimProvider({
    clock,
    rng,
    bootMs: input.bootSeconds * 1000,
    preemptionsPerVmHour: input.preemptionsPerVmHour,
    stockouts: input.stockouts.map((s) => ({
      zone: s.zone,
      region: s.region,
      from: t0 + s.fromSeconds * 1000,
      to: t0 + s.toSeconds * 1000,
    })),
  });
  const provisioner = new SimProvisioner({ bus, provider, clock, logger: log });
  await provisioner.start();
  return { pool, jobs, job, bus, fleet, registry, sink, feeder, autoscaler, provider, provisioner };
}
