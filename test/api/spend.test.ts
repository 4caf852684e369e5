import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { JobStore, type TaskEvent } from '@kumo/shared';
import { auth, MINIMAL_SPEC, testApi } from '../support/api';

/** Tasks [from, to) of a job start and succeed at `usd` each (1 s at usd/1000 a slot-millisecond). */
async function finish(
  jobs: JobStore,
  jobId: string,
  pool: string,
  user: string,
  from: number,
  to: number,
  usd: number,
): Promise<void> {
  const events: TaskEvent[] = [];
  for (let i = from; i < to; i++)
    events.push({ t: 's', j: jobId, i, a: 1, w: 'w', at: 0 }, { t: 'ok', j: jobId, i, a: 1, w: 'w', at: 0, d: 1000 });
  await jobs.applyEvents(jobId, pool, events, usd / 1000, user);
}

describe('spend API', () => {
  let app: FastifyInstance;
  let redis: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, redis, prefix, cleanup } = await testApi(inject('redisUrl')));
  });
  afterAll(() => cleanup());

  it("reports the month's spend by user, pool and job, as JSON and the same rows as CSV; a batch applied twice counts once", async () => {
    const jobs = new JobStore(redis, { prefix });
    const submit = async (name: string) =>
      (
        await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: { ...MINIMAL_SPEC, name } })
      ).json().id as string;
    const a = await submit('a');
    const b = await submit('b');
    await finish(jobs, a, 'local', 'ann', 0, 4, 0.25);
    await finish(jobs, a, 'local', 'ann', 0, 4, 0.25);
    await finish(jobs, b, 'gpu, "big"', 'bob', 0, 2, 1.5);
    const month = jobs.budgets.month();

    const byUser = await app.inject({ method: 'GET', url: '/v1/spend?by=user', headers: auth() });
    expect(byUser.statusCode).toBe(200);
    expect(byUser.json()).toEqual({
      month,
      by: 'user',
      rows: [
        { name: 'bob', costUsd: 3 },
        { name: 'ann', costUsd: 1 },
      ],
      totalUsd: 4,
      teamMaxCostUsd: null,
    });
    const byJob = (await app.inject({ method: 'GET', url: `/v1/spend?by=job&month=${month}`, headers: auth() })).json();
    expect(byJob.rows).toEqual([
      { name: b, costUsd: 3 },
      { name: a, costUsd: 1 },
    ]);

    const csv = await app.inject({ method: 'GET', url: '/v1/spend.csv?by=pool', headers: auth() });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toBe(`month,pool,costUsd\n${month},"gpu, ""big""",3\n${month},local,1\n`);

    // Another month: nothing spent then.
    expect((await app.inject({ method: 'GET', url: '/v1/spend?month=2001-01', headers: auth() })).json()).toMatchObject(
      { month: '2001-01', rows: [], totalUsd: 0 },
    );
    const bad = await app.inject({ method: 'GET', url: '/v1/spend?by=team&month=2026-13', headers: auth() });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_INPUT');
  });

  it("sets user budgets with a period and the team's monthly budget; only admins may", async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/users/cho/budget',
      headers: auth(),
      payload: { maxCostUsd: 50, period: 'month' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'cho', maxCostUsd: 50, period: 'month', monthCostUsd: 0 });
    const plain = await app.inject({
      method: 'PUT',
      url: '/v1/users/cho/budget',
      headers: auth(),
      payload: { maxCostUsd: 70 },
    });
    expect(plain.json()).toMatchObject({ maxCostUsd: 70, period: 'all' });
    const team = await app.inject({
      method: 'PUT',
      url: '/v1/team/budget',
      headers: auth(),
      payload: { maxCostUsd: 900 },
    });
    expect(team.json()).toMatchObject({ maxCostUsd: 900 });
    expect((await app.inject({ method: 'GET', url: '/v1/spend', headers: auth() })).json().teamMaxCostUsd).toBe(900);
    const viewer = (
      await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(), payload: { role: 'viewer', name: 'v' } })
    ).json().token as string;
    expect(
      (await app.inject({ method: 'PUT', url: '/v1/team/budget', headers: auth(viewer), payload: { maxCostUsd: 1 } }))
        .statusCode,
    ).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/team/budget', headers: auth(viewer) })).json()).toMatchObject({
      maxCostUsd: 900,
    });
  });
});
