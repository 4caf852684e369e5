import { describe, expect, it } from 'vitest';
import { planPreemption, type SlotUse } from './preemption';

const job = (id: string, priority: number, running: number, waiting: number): SlotUse => ({
  id,
  priority,
  running,
  waiting,
});

describe('planPreemption', () => {
  it('an urgent evaluation takes slots from a long low-priority extraction, no more than it has tasks waiting', () => {
    expect(planPreemption([job('extract', 10, 8, 100), job('eval', 90, 0, 3)], 8)).toEqual(new Map([['extract', 3]]));
  });

  it('free slots are used before anything is preempted', () => {
    expect(planPreemption([job('extract', 10, 6, 100), job('eval', 90, 0, 3)], 8)).toEqual(new Map([['extract', 1]]));
    expect(planPreemption([job('extract', 10, 4, 100), job('eval', 90, 0, 3)], 8)).toEqual(new Map());
  });

  it('takes from the lowest priority first, then the next; never from the same or a higher priority', () => {
    const plan = planPreemption(
      [job('low', 10, 2, 0), job('mid', 50, 4, 0), job('peer', 90, 2, 0), job('eval', 90, 0, 5)],
      8,
    );
    expect(plan).toEqual(
      new Map([
        ['low', 2],
        ['mid', 3],
      ]),
    );
  });

  it('jobs of one priority never preempt each other, and a pool without waiting work preempts nothing', () => {
    expect(planPreemption([job('a', 50, 8, 10), job('b', 50, 0, 10)], 8)).toEqual(new Map());
    expect(planPreemption([job('a', 10, 8, 0), job('b', 90, 0, 0)], 8)).toEqual(new Map());
  });
});
