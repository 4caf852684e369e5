import { randomUUID } from 'node:crypto';
import { KumoError } from '@kumo/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GceProvider } from '@kumo/provisioner';
import { createInZones, zoneRequestId } from '@kumo/shared';
import { startFakeCompute, type FakeCompute } from '../fakes/compute-server';
import { a100Spec, provider, rejectionOf } from './helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let fake: FakeCompute;
let gce: GceProvider;

beforeAll(async () => {
  fake = await startFakeCompute();
  gce = provider(fake);
});

afterEach(() => {
  expect(fake.unknownRoutes).toEqual([]);
  for (const z of ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-east1-b']) fake.restock(z);
  fake.clearQuota('us-central1');
});

afterAll(async () => {
  await gce.close();
  await fake.close();
});

function walkRequest(): { name: string; spec: ReturnType<typeof a100Spec>; requestId: string } {
  return { name: `kumo-walk-${randomUUID().slice(0, 8)}`, spec: a100Spec(), requestId: randomUUID() };
}

const insertsFor = (name: string) => fake.inserts.filter((i) => i.body.name === name);

describe('createInZones', () => {
  it('moves to the next zone after a stockout and places the VM there', async () => {
    fake.stockout('us-central1-a');
    const req = walkRequest();
    const result = await createInZones(gce, req, ['us-central1-a', 'us-central1-b']);

    expect(result.zone).toBe('us-central1-b');
    expect(result.vm).toMatchObject({ name: req.name, zone: 'us-central1-b', status: 'running' });
    expect(result.skipped).toEqual([{ zone: 'us-central1-a', code: 'ZONE_RESOURCE_POOL_EXHAUSTED' }]);
    const sent = insertsFor(req.name);
    expect(sent.map((i) => i.zone)).toEqual(['us-central1-a', 'us-central1-b']);
    // One requestId per zone, each a UUID, each derived the same way every time.
    expect(sent[0]!.requestId).not.toBe(sent[1]!.requestId);
    for (const s of sent) expect(s.requestId).toMatch(UUID);
    expect(sent[1]!.requestId).toBe(zoneRequestId(req.requestId, 'us-central1-b'));
    expect(fake.instances().filter((i) => i.name === req.name)).toHaveLength(1);
  });

  it('repeating the whole walk creates no second VM', async () => {
    fake.stockout('us-central1-a');
    const req = walkRequest();
    const first = await createInZones(gce, req, ['us-central1-a', 'us-central1-b']);
    const again = await createInZones(gce, req, ['us-central1-a', 'us-central1-b']);
    expect(again.zone).toBe(first.zone);
    expect(fake.instances().filter((i) => i.name === req.name)).toHaveLength(1);
  });

  it('on QUOTA_EXCEEDED skips the rest of that region without asking and tries the next region', async () => {
    fake.quota('us-central1', 'NVIDIA_A100_GPUS');
    const req = walkRequest();
    const result = await createInZones(gce, req, ['us-central1-a', 'us-central1-b', 'us-east1-b']);

    expect(result.zone).toBe('us-east1-b');
    expect(result.skipped).toEqual([
      { zone: 'us-central1-a', code: 'QUOTA_EXCEEDED' },
      { zone: 'us-central1-b', code: 'QUOTA_EXCEEDED' },
    ]);
    expect(insertsFor(req.name).map((i) => i.zone)).toEqual(['us-central1-a', 'us-east1-b']);
  });

  it('fails with ZONE_RESOURCE_POOL_EXHAUSTED, listing the zones, when every zone is out of capacity', async () => {
    fake.stockout('us-central1-a');
    fake.stockout('us-central1-b');
    const err = await rejectionOf(createInZones(gce, walkRequest(), ['us-central1-a', 'us-central1-b']));
    expect(err).toBeInstanceOf(KumoError);
    expect(err.code).toBe('ZONE_RESOURCE_POOL_EXHAUSTED');
    expect(err.details.skipped.map((s: { zone: string }) => s.zone)).toEqual(['us-central1-a', 'us-central1-b']);
  });

  it('fails with QUOTA_EXCEEDED when quota is all that stopped it', async () => {
    fake.quota('us-central1', 'NVIDIA_A100_GPUS');
    const err = await rejectionOf(createInZones(gce, walkRequest(), ['us-central1-a', 'us-central1-b']));
    expect(err.code).toBe('QUOTA_EXCEEDED');
  });

  it('retries a 503 in the same zone instead of moving on', async () => {
    fake.failNext(503, { route: 'insert' });
    const req = walkRequest();
    const result = await createInZones(gce, req, ['us-central1-a', 'us-central1-b'], { retryDelayMs: 10 });
    expect(result.zone).toBe('us-central1-a');
    expect(result.skipped).toEqual([]);
    expect(insertsFor(req.name).map((i) => i.zone)).toEqual(['us-central1-a', 'us-central1-a']);
  });

  it('stops at an unknown outcome (502) and never tries a second zone', async () => {
    fake.failNext(502, { route: 'insert', html: true });
    const req = walkRequest();
    const err = await rejectionOf(createInZones(gce, req, ['us-central1-a', 'us-central1-b'], { retryDelayMs: 10 }));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: false });
    expect(insertsFor(req.name).map((i) => i.zone)).toEqual(['us-central1-a']);
  });

  it('stops at PROVIDER_REJECTED without trying other zones', async () => {
    fake.failNext(400, { route: 'insert', reason: 'invalid' });
    const req = walkRequest();
    const err = await rejectionOf(createInZones(gce, req, ['us-central1-a', 'us-central1-b']));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED', retryable: false });
    expect(insertsFor(req.name).map((i) => i.zone)).toEqual(['us-central1-a']);
  });
});

it('zoneRequestId is a stable, zone-specific RFC 4122 UUID', () => {
  const id = randomUUID();
  const a = zoneRequestId(id, 'us-central1-a');
  expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(zoneRequestId(id, 'us-central1-a')).toBe(a);
  expect(zoneRequestId(id, 'us-central1-b')).not.toBe(a);
  expect(zoneRequestId(randomUUID(), 'us-central1-a')).not.toBe(a);
});
