import { describe, expect, inject, it } from 'vitest';
import { runSimulation } from '@kumo/scheduler';
import { createLogger, listHourlyPrice, type SimulationInputRaw } from '@kumo/shared';

const logger = createLogger({ name: 'sim-test', level: 'warn' });
const CENTRAL = ['us-central1-a', 'us-central1-b', 'us-central1-c'];
const TOKYO = ['asia-northeast1-a', 'asia-northeast1-b'];

/** 3,000 batches on 8 spot A100s, us-central1 out of stock for the first 6 hours. */
const input = (zones: string[]): SimulationInputRaw => ({
  job: {
    kind: 'extraction',
    name: 'sim',
    source: { snapshot: 'CC-MAIN-2023-50', batches: 3000 },
    run: { builtin: 'noop' },
  },
  pool: {
    machineType: 'a2-highgpu-1g',
    gpu: { type: 'nvidia-tesla-a100', count: 1 },
    spot: true,
    zones,
    min: 0,
    max: 8,
    slotsPerVm: 1,
    scaleUpBatch: 8,
  },
  taskSeconds: { mean: 240, jitter: 0.25 },
  bootSeconds: 90,
  preemptionsPerVmHour: 0.05,
  stockouts: [{ region: 'us-central1', fromSeconds: 0, toSeconds: 6 * 3600 }],
  seed: 5,
});

describe('kumo simulate: a region-wide stockout', () => {
  it("one region waits it out; with a second region the job runs there at once, at that region's price, and a VM is billed in its own region", async () => {
    const one = await runSimulation(input(CENTRAL), { redisUrl: inject('redisUrl'), logger });
    const two = await runSimulation(input([...CENTRAL, ...TOKYO]), { redisUrl: inject('redisUrl'), logger });
    console.log(
      `one region: makespan ${one.makespanSeconds} s, $${one.costUsd}; two regions: makespan ${two.makespanSeconds} s, $${two.costUsd}`,
    );

    expect(one.jobState).toBe('succeeded');
    expect(two.jobState).toBe('succeeded');
    // One region: nothing runs for the 6 hours.
    expect(one.series.find((p) => p.vms > 0)!.t).toBeGreaterThanOrEqual(6 * 3600);
    // Two regions: VMs within the first scale interval, so the job ends about the stockout's 6 hours sooner.
    expect(two.series.find((p) => p.vms > 0)!.t).toBeLessThan(600);
    expect(two.makespanSeconds).toBeLessThan(one.makespanSeconds - 5 * 3600);
    // Each VM is billed in its own region: the one-region run at us-central1's price; the two-region
    // run at Tokyo's while us-central1 was out, and at us-central1's for VMs made after it came back.
    const tokyo = listHourlyPrice('a2-highgpu-1g', 'asia-northeast1', true)!;
    const central = listHourlyPrice('a2-highgpu-1g', 'us-central1', true)!;
    expect(one.costUsd / one.vmHours).toBeCloseTo(central, 2);
    expect(two.costUsd / two.vmHours).toBeGreaterThan(central * 1.05);
    expect(two.costUsd / two.vmHours).toBeLessThanOrEqual(tokyo + 0.001);
    // The ideal is task time at the cheapest region's price: below what either run paid.
    expect(two.idealCostUsd).toBe(one.idealCostUsd);
    expect(two.idealCostUsd).toBeLessThan(one.costUsd);
  }, 120_000);
});
