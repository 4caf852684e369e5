import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GangStore, Keys, wallClock } from '@kumo/shared';
import { redisForSuite, testPrefix } from '../../../test/support/prefix';
import { awaitGang, type GangWaitInput } from './gang-rendezvous';

describe('a gang rendezvous (GangStore and awaitGang) on real Redis', () => {
  const prefix = testPrefix('gang');
  const keys = new Keys(prefix);
  const redis = redisForSuite(prefix);
  const gangs = new GangStore(redis, { prefix });
  /** What the control channel carried, to check who was told to stop. */
  const stops: unknown[] = [];
  const sub = new Redis(inject('redisUrl'));
  const listening = sub
    .subscribe(keys.controlChannel())
    .then(() => sub.on('message', (_c: string, m: string) => stops.push(JSON.parse(m))));
  afterAll(() => sub.quit());

  // Each test's job, running (a gang of an ended job has nothing to join).
  beforeAll(async () => {
    for (const id of ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'j8', 'j9'])
      await redis.hset(keys.job(id), 'state', 'running');
  });
  const wait = (jobId: string, rank: number, gen: number, holder: string, extra: Partial<GangWaitInput> = {}) =>
    awaitGang({
      gangs,
      jobId,
      rank,
      size: 3,
      gen,
      holder,
      timeoutMs: 5000,
      pollMs: 20,
      clock: wallClock,
      signal: new AbortController().signal,
      ...extra,
    });

  it('three ranks on three workers meet in one generation; each learns every rank’s address, by rank', async () => {
    const joins = await Promise.all(
      [2, 0, 1].map((rank) =>
        gangs.join('j1', { rank, worker: `vm-${rank}`, addr: `10.0.0.${rank + 10}`, holder: `h${rank}` }),
      ),
    );
    expect(joins).toEqual([
      { outcome: 'joined', gen: 0 },
      { outcome: 'joined', gen: 0 },
      { outcome: 'joined', gen: 0 },
    ]);
    const met = await Promise.all([0, 1, 2].map((rank) => wait('j1', rank, 0, `h${rank}`)));
    for (const m of met) expect(m).toEqual({ outcome: 'formed', hosts: ['10.0.0.10', '10.0.0.11', '10.0.0.12'] });
  });

  it('one VM never holds two ranks of a gang: the second join is refused', async () => {
    expect(await gangs.join('j2', { rank: 0, worker: 'vm-a', addr: 'a', holder: 'h0' })).toEqual({
      outcome: 'joined',
      gen: 0,
    });
    expect(await gangs.join('j2', { rank: 1, worker: 'vm-a', addr: 'a', holder: 'h1' })).toEqual({
      outcome: 'busy',
      gen: 0,
    });
    expect((await gangs.view('j2', 3)).members.map((m) => m.rank)).toEqual([0]);
  });

  it('a rank that ends badly ends its generation once: waiting peers see it broken, running peers are told to stop', async () => {
    await listening;
    await gangs.join('j3', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' });
    const waiting = wait('j3', 0, 0, 'h0');
    expect(await gangs.breakGeneration('j3', 0)).toBe(true);
    expect(await gangs.breakGeneration('j3', 0)).toBe(false);
    expect(await waiting).toEqual({ outcome: 'broken' });
    const view = await gangs.view('j3', 3);
    expect(view).toMatchObject({ gen: 1, members: [] });
    await expect.poll(() => stops).toContainEqual({ type: 'gang-stop', jobId: 'j3', gen: 0 });
    expect(stops.filter((s) => (s as { jobId: string }).jobId === 'j3')).toHaveLength(1);
  });

  it('a lost rank’s next run starts a new generation: the old one’s ranks are told to stop', async () => {
    await listening;
    await gangs.join('j4', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' });
    await gangs.join('j4', { rank: 1, worker: 'vm-1', addr: 'a1', holder: 'h1' });
    // Rank 1's worker vanished; its task runs again elsewhere (a new lock token).
    expect(await gangs.join('j4', { rank: 1, worker: 'vm-2', addr: 'a2', holder: 'h1-again' })).toEqual({
      outcome: 'joined',
      gen: 1,
    });
    expect(await wait('j4', 0, 0, 'h0')).toEqual({ outcome: 'broken' });
    const view = await gangs.view('j4', 3);
    expect(view.gen).toBe(1);
    expect(view.members.map((m) => [m.rank, m.worker])).toEqual([[1, 'vm-2']]);
    await expect.poll(() => stops).toContainEqual({ type: 'gang-stop', jobId: 'j4', gen: 0 });
  });

  it('a rank that times out leaves, so that its next run rejoins the same generation instead of breaking it', async () => {
    await gangs.join('j5', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' });
    await gangs.join('j5', { rank: 1, worker: 'vm-1', addr: 'a1', holder: 'h1' });
    expect(await wait('j5', 1, 0, 'h1', { timeoutMs: 100 })).toEqual({ outcome: 'timeout' });
    expect((await gangs.view('j5', 3)).members.map((m) => m.rank)).toEqual([0]);
    expect(await gangs.join('j5', { rank: 1, worker: 'vm-1', addr: 'a1', holder: 'h1-next' })).toEqual({
      outcome: 'joined',
      gen: 0,
    });
  });

  it('a rank already final means the gang can never meet again; a stopped wait says so and leaves', async () => {
    await gangs.join('j6', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' });
    await redis.setbit(keys.jobDone('j6'), 2, 1);
    expect(await wait('j6', 0, 0, 'h0')).toEqual({ outcome: 'incomplete', rank: 2 });
    expect((await gangs.view('j6', 3)).finished).toEqual([2]);

    await gangs.join('j7', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' });
    const stop = new AbortController();
    const waiting = wait('j7', 0, 0, 'h0', { signal: stop.signal });
    stop.abort();
    expect(await waiting).toEqual({ outcome: 'stopped' });
    expect((await gangs.view('j7', 3)).members).toEqual([]);
  });

  it('a rank giving up just as the last one joined does not strand the others: it runs with them (timeout) or ends the generation (stop)', async () => {
    await gangs.join('j8', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' });
    await gangs.join('j8', { rank: 1, worker: 'vm-1', addr: 'a1', holder: 'h1' });
    await gangs.join('j8', { rank: 2, worker: 'vm-2', addr: 'a2', holder: 'h2' });
    expect(await gangs.leave('j8', 0, 'h0', 3)).toBe('formed');
    expect((await gangs.view('j8', 3)).members).toHaveLength(3);
    // A wait whose time is up when it first looks, on a gang that has formed: it runs.
    expect(await wait('j8', 0, 0, 'h0', { timeoutMs: 0 })).toEqual({ outcome: 'formed', hosts: ['a0', 'a1', 'a2'] });
  });

  it('a rank waiting when its job is paused stops waiting and leaves; a gang that formed meanwhile runs on', async () => {
    await gangs.join('j9', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' });
    let paused = false;
    const waiting = wait('j9', 0, 0, 'h0', { held: async () => paused });
    paused = true;
    expect(await waiting).toEqual({ outcome: 'held' });
    expect((await gangs.view('j9', 3)).members).toEqual([]);
    // All three in, then the pause: the gang is in flight, and in-flight work finishes through a pause.
    for (const rank of [0, 1, 2])
      await gangs.join('j9', { rank, worker: `vm-${rank}`, addr: `a${rank}`, holder: `g${rank}` });
    expect(await wait('j9', 0, 0, 'g0', { held: async () => true })).toEqual({
      outcome: 'formed',
      hosts: ['a0', 'a1', 'a2'],
    });
  });

  it('once the job has ended, nothing joins its gang and nothing brings its deleted gang key back', async () => {
    await redis.hset(keys.job('j-ended'), 'state', 'cancelled');
    expect(await gangs.join('j-ended', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' })).toEqual({
      outcome: 'ended',
      gen: 0,
    });
    expect(await gangs.join('j-gone', { rank: 0, worker: 'vm-0', addr: 'a0', holder: 'h0' })).toEqual({
      outcome: 'ended',
      gen: 0,
    });
    // A rank stopping after its job ended (and the job's end deleted the gang) ends nothing.
    expect(await gangs.breakGeneration('j-ended', 0)).toBe(false);
    expect(await redis.exists(keys.jobGang('j-ended'), keys.jobGang('j-gone'))).toBe(0);
  });
});
