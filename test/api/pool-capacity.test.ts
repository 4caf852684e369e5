import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auth, testApi } from '../support/api';

describe('pool capacity settings through the API', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl')));
  });
  afterAll(() => cleanup());

  const put = (name: string, body: unknown) =>
    app.inject({
      method: 'PUT',
      url: `/v1/pools/${name}`,
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const paths = (res: { json(): any }) => res.json().error.issues.map((i: { path: unknown }) => i.path);

  it('a machine type without a list price and without prices is refused at machineType (400), never priced $0', async () => {
    const res = await put('n1', {
      machineType: 'n1-standard-8',
      gpu: { type: 'none', count: 0 },
      zones: ['us-central1-a'],
      max: 2,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
    expect(paths(res)).toEqual([['machineType']]);
    const priced = await put('n1', {
      machineType: 'n1-standard-8',
      gpu: { type: 'none', count: 0 },
      zones: ['us-central1-a'],
      max: 2,
      prices: { spotPerHourUsd: 0.08 },
    });
    expect(priced.statusCode).toBe(201); // the refused PUT made nothing: this one creates it
  });

  it('CPU, L4 and H100 pools take their list price', async () => {
    for (const [name, machineType, gpu] of [
      ['warc-cpu', 'n2d-standard-16', { type: 'none', count: 0 }],
      ['eval-l4', 'g2-standard-8', { type: 'nvidia-l4', count: 1 }],
      ['h100', 'a3-highgpu-8g', { type: 'nvidia-h100-80gb', count: 8 }],
    ] as const) {
      const res = await put(name, { machineType, gpu, zones: ['us-central1-a'], max: 2 });
      expect(res.statusCode, JSON.stringify(res.json())).toBe(201);
    }
  });

  it('a pool across regions keeps a subnetwork per region, compact placement, a reservation, flex-start; a region without its subnetwork is refused', async () => {
    const subnetworks = {
      'us-central1': 'regions/us-central1/subnetworks/kumo',
      'asia-northeast1': 'regions/asia-northeast1/subnetworks/kumo',
    };
    const zones = ['us-central1-a', 'us-central1-b', 'asia-northeast1-a'];
    const ok = await put('a100-two-regions', { zones, subnetworks, max: 8, placement: 'compact' });
    expect(ok.statusCode).toBe(201);
    const pools = (await app.inject({ method: 'GET', url: '/v1/pools', headers: auth() })).json();
    const list = (pools.pools ?? pools.items ?? pools) as { name: string }[];
    expect(list.find((p) => p.name === 'a100-two-regions')).toMatchObject({ zones, subnetworks, placement: 'compact' });

    const missing = await put('a100-two-regions', {
      zones,
      subnetworks: { 'us-central1': subnetworks['us-central1'] },
      max: 8,
    });
    expect(missing.statusCode).toBe(400);
    expect(paths(missing)).toEqual([['subnetworks', 'asia-northeast1']]);

    expect(
      (await put('reserved', { zones: ['us-central1-a'], max: 4, spot: false, reservation: 'a100-block' })).statusCode,
    ).toBe(201);
    expect(
      (
        await put('flex', {
          zones: ['us-central1-a'],
          max: 4,
          spot: false,
          provisioning: 'flex-start',
          maxRunDurationSeconds: 14_400,
        })
      ).statusCode,
    ).toBe(201);
    const spotFlex = await put('flex', {
      zones: ['us-central1-a'],
      max: 4,
      provisioning: 'flex-start',
      maxRunDurationSeconds: 14_400,
    });
    expect(spotFlex.statusCode).toBe(400);
    expect(paths(spotFlex)).toEqual([['spot']]);
  });
});
