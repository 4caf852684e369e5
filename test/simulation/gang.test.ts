import { describe, expect, inject, it } from 'vitest';
import { runSimulation } from '@kumo/scheduler';
import { createLogger, simulationInputSchema, type SimulationInputRaw } from '@kumo/shared';

const logger = createLogger({ name: 'sim-test', level: 'warn' });

/** A 1B run as a gang of 4 spot A100 VMs, 4 hours a generation, us-central1-a out of stock. */
const input = (preemptionsPerVmHour: number): SimulationInputRaw => ({
  job: {
    kind: 'training',
    name: 'llm-1b',
    model: { name: 'llm-jp-1b' },
    target: { steps: 1000 },
    nodes: 4,
    run: { builtin: 'noop' },
  },
  pool: {
    machineType: 'a2-highgpu-1g',
    gpu: { type: 'nvidia-tesla-a100', count: 1 },
    spot: true,
    zones: ['us-central1-a', 'us-central1-b'],
    min: 0,
    max: 4,
    slotsPerVm: 1,
  },
  taskSeconds: { mean: 4 * 3600, jitter: 0 },
  bootSeconds: 90,
  preemptionsPerVmHour,
  stockouts: [{ zone: 'us-central1-a', fromSeconds: 0, toSeconds: 30 * 86_400 }],
  seed: 12,
});

describe('kumo simulate: a gang', () => {
  it('its ranks start together on VMs placed in one zone, and a preempted rank sends the whole gang back', async () => {
    const calm = await runSimulation(input(0), { redisUrl: inject('redisUrl'), logger });
    expect(calm).toMatchObject({
      jobState: 'succeeded',
      tasks: 4,
      preemptions: 0,
      retries: 0,
      vmsCreated: 4,
      peakVms: 4,
    });
    expect(calm.vmsByZone).toEqual({ 'us-central1-b': 4 });
    // All four ran together: one generation of 4 hours after the boot, not four staggered runs.
    expect(calm.makespanSeconds).toBeLessThan(4 * 3600 + 15 * 60);

    const stormy = await runSimulation(input(0.15), { redisUrl: inject('redisUrl'), logger });
    console.log(
      `gang of 4: calm ${calm.makespanSeconds} s $${calm.costUsd}; 0.15 preemptions/VM-h ${stormy.makespanSeconds} s $${stormy.costUsd}, ${stormy.preemptions} preemptions, ${stormy.retries} hand-backs`,
    );
    expect(stormy.jobState).toBe('succeeded');
    expect(stormy.preemptions).toBeGreaterThan(0);
    // Each preemption hands back its own rank and, when the gang had met or was meeting, the others'.
    expect(stormy.retries).toBeGreaterThan(stormy.preemptions);
    expect(stormy.makespanSeconds).toBeGreaterThan(calm.makespanSeconds);
    expect(Object.keys(stormy.vmsByZone)).toEqual(['us-central1-b']);
  }, 120_000);

  it('a gang needs one VM per rank and a pool that can hold it', () => {
    const bad = simulationInputSchema.safeParse({ ...input(0), pool: { ...input(0).pool, slotsPerVm: 2, max: 3 } });
    expect(bad.error?.issues.map((i) => i.path)).toEqual([
      ['pool', 'slotsPerVm'],
      ['job', 'nodes'],
    ]);
  });
});
