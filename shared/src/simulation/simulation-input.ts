import { z } from 'zod';
import { jobSpecSchema } from '../catalog/index';
import { poolSettingsSchema } from '../pools/pool';

/** What `kumo simulate` and `POST /v1/simulations` take. */
export const simulationInputSchema = z
  .strictObject({
    /** The job to rehearse; its `pool` is ignored (the simulated pool below runs it). */
    job: jobSpecSchema,
    pool: poolSettingsSchema,
    /** How long one task runs on a VM: a mean, and a spread around it. */
    taskSeconds: z
      .strictObject({
        mean: z
          .number()
          .min(0.001)
          .max(30 * 86_400),
        /** Relative spread: uniform in mean x [1 - jitter, 1 + jitter], or the standard deviation / mean for `normal`. */
        jitter: z.number().min(0).max(0.99).default(0.2),
        distribution: z.enum(['uniform', 'normal']).default('uniform'),
      })
      .default({ mean: 240, jitter: 0.2, distribution: 'uniform' }),
    /** From create to the worker taking its first task. */
    bootSeconds: z.number().min(0).max(3600).default(90),
    /** Spot VMs only: preemptions per VM-hour (a Poisson process per VM). */
    preemptionsPerVmHour: z.number().min(0).max(100).default(0.05),
    /** Probability that one attempt of a task fails by itself (retried up to the job's maxAttempts). */
    taskFailureRate: z.number().min(0).max(1).default(0),
    /** Windows in which a zone, or every zone of a region, has no capacity, in seconds from the start. */
    stockouts: z
      .array(
        z
          .strictObject({
            zone: z.string().min(1).optional(),
            region: z.string().min(1).optional(),
            fromSeconds: z.number().min(0),
            toSeconds: z.number().min(0),
          })
          .refine((s) => (s.zone === undefined) !== (s.region === undefined), {
            message: 'give a zone or a region, one of them',
          }),
      )
      .max(1000)
      .default([]),
    seed: z
      .int()
      .min(0)
      .max(2 ** 31)
      .default(1),
    /** Time is stepped in units of this many seconds (task ends are rounded up to it). */
    resolutionSeconds: z.number().min(1).max(3600).default(10),
    /** How often the autoscaler and reconciliation run, in simulated seconds. */
    scaleIntervalSeconds: z.number().min(1).max(3600).default(60),
    /** One time-series point every this many simulated seconds. */
    sampleEverySeconds: z.number().min(1).max(86_400).default(600),
    /** Give up after this much simulated time. */
    maxSimulatedHours: z
      .number()
      .min(0.01)
      .max(24 * 365)
      .default(24 * 90),
  })
  .superRefine((s, ctx) => {
    // A rehearsal reads no files: a listing's size must be said, as the count it would resolve to.
    if (s.job.kind === 'extraction' && s.job.source.listing !== undefined && s.job.source.batches === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['job', 'source', 'batches'],
        message: 'a simulation does not read source.listing: give source.batches, its number of lines',
      });
    }
    // A gang's ranks take a VM each (as on a real pool, where the job is refused otherwise).
    if (s.job.kind === 'training' && (s.job.nodes ?? 1) > 1) {
      if (s.pool.slotsPerVm !== 1)
        ctx.addIssue({
          code: 'custom',
          path: ['pool', 'slotsPerVm'],
          message: 'a gang (nodes > 1) runs one rank per VM: slotsPerVm 1',
        });
      if (s.pool.max < s.job.nodes!)
        ctx.addIssue({ code: 'custom', path: ['job', 'nodes'], message: `the pool has at most ${s.pool.max} VMs` });
    }
  });
export type SimulationInput = z.infer<typeof simulationInputSchema>;
export type SimulationInputRaw = z.input<typeof simulationInputSchema>;

export interface SimulationPoint {
  t: number;
  queued: number;
  running: number;
  succeeded: number;
  vms: number;
}

export interface SimulationReport {
  finished: boolean;
  jobState: string;
  tasks: number;
  makespanSeconds: number;
  /** Every VM of the pool's max boots at once and works without a gap: boot + total work / (max x slots). */
  idealMakespanSeconds: number;
  costUsd: number;
  /** Paying only for the time tasks run: total work x the price of one slot, in the pool's cheapest region. */
  idealCostUsd: number;
  /** What the job's tasks were charged (task time x slot price, at the pool's dearest region, as budgets count it); costUsd also pays boot and idle time. */
  jobCostUsd: number;
  vmHours: number;
  /** Paid VM time without a task: boot, waiting for work, idle before scale-down. */
  idleVmHours: number;
  preemptions: number;
  /** Attempts that ran again: hand-backs after preemption plus the task's own failures. */
  retries: number;
  vmsCreated: number;
  /** VMs made in each zone (a region-wide stockout shows here as zones of the next region). */
  vmsByZone: Record<string, number>;
  peakVms: number;
  series: SimulationPoint[];
  wallSeconds: number;
}

/** A simulation's life on the API: queued -> running -> done | failed. */
export type SimulationState = 'queued' | 'running' | 'done' | 'failed';

/** The BullMQ queue simulations wait in (under the deployment's prefix). */
export const SIMULATION_QUEUE = 'simulations';
