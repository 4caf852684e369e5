import { describe, expect, it } from 'vitest';
import { allocate, budgetRoom, type FeedCandidate, type UserShare } from './fair-share';
import { sharedBudget, sharedRoom } from './spend-gates';

const job = (id: string, user: string, priority = 50, total = 1000): FeedCandidate => ({
  id,
  user,
  priority,
  fed: 0,
  total,
  all: total,
});

/** Tasks planned per user. */
function perUser(plan: Map<FeedCandidate, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, n] of plan) out[c.user] = (out[c.user] ?? 0) + n;
  return out;
}

describe('fair share with weights and slot caps', () => {
  it('without shares, users of one priority split the room evenly', () => {
    expect(perUser(allocate([job('a', 'ann'), job('b', 'bob')], 100))).toEqual({ ann: 50, bob: 50 });
  });

  it('shares follow weights: 3 to 1, and 2:1:1 across three users', () => {
    expect(perUser(allocate([job('a', 'ann'), job('b', 'bob')], 100, new Map([['ann', { weight: 3 }]])))).toEqual({
      ann: 75,
      bob: 25,
    });
    const three = new Map<string, UserShare>([
      ['ann', { weight: 2 }],
      ['bob', { weight: 1 }],
      ['cho', { weight: 1 }],
    ]);
    expect(perUser(allocate([job('a', 'ann'), job('b', 'bob'), job('c', 'cho')], 200, three))).toEqual({
      ann: 100,
      bob: 50,
      cho: 50,
    });
  });

  it("a user's weight is split evenly over their own jobs", () => {
    const plan = allocate([job('a1', 'ann'), job('a2', 'ann'), job('b', 'bob')], 90, new Map([['ann', { weight: 2 }]]));
    expect([...plan].map(([c, n]) => [c.id, n])).toEqual([
      ['a1', 30],
      ['a2', 30],
      ['b', 30],
    ]);
  });

  it('a slot cap bounds a user, and what they cannot take goes to the others', () => {
    const plan = allocate([job('a', 'ann'), job('b', 'bob')], 100, new Map([['ann', { weight: 3, room: 10 }]]));
    expect(perUser(plan)).toEqual({ ann: 10, bob: 90 });
    // No room left under the cap: nothing for that user at all.
    expect(
      perUser(allocate([job('a', 'ann'), job('b', 'bob')], 100, new Map([['ann', { weight: 1, room: 0 }]]))),
    ).toEqual({ bob: 100 });
  });

  it('the cap holds across priorities: a user capped at 20 gets 20 in all, whatever tiers their jobs are in', () => {
    const plan = allocate(
      [job('hi', 'ann', 90, 15), job('lo', 'ann', 10), job('b', 'bob', 10)],
      100,
      new Map([['ann', { weight: 1, room: 20 }]]),
    );
    expect(Object.fromEntries([...plan].map(([c, n]) => [c.id, n]))).toEqual({ hi: 15, lo: 5, b: 80 });
  });

  it('higher priority is served first, whatever the weights', () => {
    const plan = allocate(
      [job('urgent', 'bob', 90, 30), job('long', 'ann', 10)],
      100,
      new Map([['ann', { weight: 10 }]]),
    );
    expect(Object.fromEntries([...plan].map(([c, n]) => [c.id, n]))).toEqual({ urgent: 30, long: 70 });
  });
});

describe('budget rooms of a job with tasks a skip preset done', () => {
  // 30,000 of 90,000 done by hand: preset done, counted in `done`, never run, free.
  const skipped = { state: 'running' as const, fed: 30_000, done: 30_000, ran: 0, costUsd: 0, maxCostUsd: 10 };

  it('before any task ran, only a first wave goes out (the cost of a task is not known yet)', () => {
    expect(budgetRoom(skipped, 8)).toEqual({ room: 8, exhausted: false });
    const shared = sharedBudget({ max: 10, spent: 0 }, [skipped]);
    expect(sharedRoom(shared, skipped, 8)).toEqual({ room: 8, exhausted: false });
  });

  it('once tasks ran, a task costs what those cost, not that spread over the preset ones', () => {
    // 8 tasks ran for $1 and 2 are in flight: $0.125 a task; $9 left is 72 tasks, less the 2 in flight.
    const ran = { ...skipped, fed: 30_010, done: 30_008, ran: 8, costUsd: 1 };
    expect(budgetRoom(ran, 8)).toEqual({ room: 70, exhausted: false });
    const shared = sharedBudget({ max: 10, spent: 1 }, [ran]);
    expect(shared.available).toBe(8.75);
    expect(sharedRoom(shared, ran, 8)).toEqual({ room: 70, exhausted: false });
  });
});
