import { describe, expect, it } from 'vitest';
import type { VmRecord } from './fleet-store';
import { planGangs } from './gang-plan';

const vm = (name: string, gang?: string, zone?: string): VmRecord => ({
  name,
  pool: 'p',
  state: 'running',
  createdAt: 0,
  stateAt: 0,
  ...(gang ? { gang } : {}),
  ...(zone ? { zone } : {}),
});

describe('planGangs', () => {
  it('asks for a whole gang at once, anywhere, when none of its VMs is up', () => {
    expect(planGangs([{ jobId: 'j1', size: 4, unfinished: 4 }], [vm('a')])).toEqual({
      ranks: 4,
      vms: 4,
      requests: [{ gang: 'j1', count: 4 }],
    });
  });

  it('completes a gang that lost a VM in the zone where the rest of it runs', () => {
    const live = [
      vm('a', 'j1', 'us-central1-b'),
      vm('b', 'j1', 'us-central1-b'),
      vm('c', 'j1', 'us-central1-b'),
      vm('d'),
    ];
    expect(planGangs([{ jobId: 'j1', size: 4, unfinished: 4 }], live).requests).toEqual([
      { gang: 'j1', count: 1, zones: ['us-central1-b'] },
    ]);
  });

  it('asks for nothing for a gang whose VMs are all there', () => {
    const live = ['a', 'b'].map((n) => vm(n, 'j1', 'us-central1-a'));
    expect(planGangs([{ jobId: 'j1', size: 2, unfinished: 1 }], live)).toEqual({ ranks: 1, vms: 2, requests: [] });
  });
});
