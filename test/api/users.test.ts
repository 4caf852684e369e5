import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auth, testApi } from '../support/api';

describe('users API: shares', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl')));
  });
  afterAll(() => cleanup());

  it('sets and shows a weight and slot caps by pool; defaults are weight 1 and no caps', async () => {
    const fresh = await app.inject({ method: 'GET', url: '/v1/users/dai', headers: auth() });
    expect(fresh.json()).toMatchObject({
      name: 'dai',
      weight: 1,
      maxSlots: {},
      budget: { maxCostUsd: null, period: 'all' },
    });
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/users/dai',
      headers: auth(),
      payload: { weight: 2.5, maxSlots: { local: 4, gpu: 16 } },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'dai', weight: 2.5, maxSlots: { local: 4, gpu: 16 } });
    expect((await app.inject({ method: 'GET', url: '/v1/users/dai', headers: auth() })).json()).toMatchObject({
      weight: 2.5,
      maxSlots: { local: 4, gpu: 16 },
    });
    // A PUT replaces: what it leaves out goes back to the default.
    expect(
      (
        await app.inject({ method: 'PUT', url: '/v1/users/dai', headers: auth(), payload: { maxSlots: { local: 1 } } })
      ).json(),
    ).toMatchObject({ weight: 1, maxSlots: { local: 1 } });
  });

  it('refuses a weight of zero, a negative cap and a number given as a string', async () => {
    for (const payload of [
      { weight: 0 },
      { maxSlots: { local: -1 } },
      { weight: '2' },
      { maxSlots: { 'Bad Pool!': 1 } },
    ]) {
      const res = await app.inject({ method: 'PUT', url: '/v1/users/dai', headers: auth(), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_INPUT');
    }
  });
});
