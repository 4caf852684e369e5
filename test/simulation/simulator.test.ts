import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { runSimulation } from '@kumo/scheduler';
import { createLogger, type SimulationInputRaw, type SimulationReport } from '@kumo/shared';

const logger = createLogger({ name: 'sim-test', level: 'warn' });
const small = (seed: number): SimulationInputRaw => ({
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
    zones: ['us-central1-a', 'us-central1-b'],
    min: 0,
    max: 8,
    slotsPerVm: 1,
    idleTimeoutSeconds: 300,
    scaleUpBatch: 8,
  },
  taskSeconds: { mean: 240, jitter: 0.25 },
  bootSeconds: 90,
  preemptionsPerVmHour: 0.2,
  stockouts: [{ zone: 'us-central1-a', fromSeconds: 0, toSeconds: 3600 }],
  seed,
});
const withoutWall = ({ wallSeconds: _w, ...rest }: SimulationReport) => rest;

describe('kumo simulate', () => {
  it('same seed, same result; another seed, another run', async () => {
    const a = await runSimulation(small(7), { redisUrl: inject('redisUrl'), logger });
    const b = await runSimulation(small(7), { redisUrl: inject('redisUrl'), logger });
    const c = await runSimulation(small(8), { redisUrl: inject('redisUrl'), logger });
    expect(withoutWall(b)).toEqual(withoutWall(a));
    expect(withoutWall(c)).not.toEqual(withoutWall(a));
    expect(a).toMatchObject({ finished: true, jobState: 'succeeded', tasks: 3000, peakVms: 8 });
    expect(a.preemptions).toBeGreaterThan(0);
    expect(a.retries).toBeGreaterThanOrEqual(a.preemptions);
    expect(a.makespanSeconds).toBeGreaterThan(a.idealMakespanSeconds);
    expect(a.costUsd).toBeGreaterThan(a.idealCostUsd);
    expect(a.series.length).toBeGreaterThan(10);
    expect(a.series.at(-1)).toMatchObject({ succeeded: 3000, running: 0 });
  });

  it('the shipped CC-MAIN-2023-50 example: 90,000 batches on 64 spot A100s within 1.10 x ideal, idle under 5 %', async () => {
    const input = JSON.parse(
      readFileSync(new URL('../../examples/simulate-cc-main-2023-50.json', import.meta.url), 'utf8'),
    ) as SimulationInputRaw;
    const r = await runSimulation(input, { redisUrl: inject('redisUrl'), logger });
    console.log(
      `simulation: makespan ${r.makespanSeconds} s vs ideal ${r.idealMakespanSeconds} s (x${(r.makespanSeconds / r.idealMakespanSeconds).toFixed(3)}), idle ${r.idleVmHours} of ${r.vmHours} VM-h, $${r.costUsd} vs ideal $${r.idealCostUsd}, ${r.preemptions} preemptions, ${r.wallSeconds} s wall`,
    );
    expect(r).toMatchObject({ finished: true, jobState: 'succeeded', tasks: 90_000, peakVms: 64 });
    expect(r.makespanSeconds / r.idealMakespanSeconds).toBeLessThanOrEqual(1.1);
    expect(r.idleVmHours / r.vmHours).toBeLessThan(0.05);
    expect(r.preemptions).toBeGreaterThan(100);
  }, 180_000);

  it('a pool whose every zone is out waits, and finishes once capacity returns', async () => {
    const input = small(3);
    input.stockouts = [
      { zone: 'us-central1-a', fromSeconds: 0, toSeconds: 7200 },
      { zone: 'us-central1-b', fromSeconds: 0, toSeconds: 7200 },
    ];
    input.job = { ...input.job, source: { snapshot: 'S', batches: 200 } } as SimulationInputRaw['job'];
    const r = await runSimulation(input, { redisUrl: inject('redisUrl'), logger });
    expect(r.jobState).toBe('succeeded');
    const firstVm = r.series.find((p) => p.vms > 0)!;
    expect(firstVm.t).toBeGreaterThanOrEqual(7200);
  });
});
