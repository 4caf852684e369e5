import { randomUUID } from 'node:crypto';
import { createGangInZones, createInZones, regionOf, StockoutMemory, vmHourlyPrice } from '@kumo/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCompute, type FakeCompute } from '../fakes/compute-server';
import { CENTRAL, SUBNETS, TOKYO } from './regions';
import { a100Spec, PROJECT, provider } from './helpers';

let fake: FakeCompute;
let gce: ReturnType<typeof provider>;

beforeAll(async () => {
  fake = await startFakeCompute();
  gce = provider(fake, { subnetwork: 'regions/us-central1/subnetworks/default-one' });
});

afterEach(() => {
  expect(fake.unknownRoutes).toEqual([]);
  for (const z of [...CENTRAL, ...TOKYO]) fake.restock(z);
});

afterAll(async () => {
  await gce.close();
  await fake.close();
});

const gangOf = (n: number) =>
  Array.from({ length: n }, (_, k) => ({
    name: `kumo-gang-${randomUUID().slice(0, 6)}-${k}`,
    requestId: randomUUID(),
  }));

describe('regions', () => {
  it("a region-wide stockout moves inserts to the next region, with that region's subnetwork, and the next walk starts there", async () => {
    for (const z of CENTRAL) fake.stockout(z);
    const spec = a100Spec({ zones: [...CENTRAL, ...TOKYO], subnetworks: SUBNETS });
    const memory = new StockoutMemory(60_000);
    const name = `kumo-region-${randomUUID().slice(0, 8)}`;
    const placed = await createInZones(gce, { name, spec, requestId: randomUUID() }, memory.order(spec.zones, 0));
    memory.record(placed.skipped, 0);

    expect(placed.zone).toBe('asia-northeast1-a');
    expect(placed.skipped.map((s) => s.zone)).toEqual(CENTRAL);
    const sent = fake.inserts.filter((i) => i.body.name === name);
    expect(sent.map((i) => i.zone)).toEqual([...CENTRAL, 'asia-northeast1-a']);
    // Each insert carries the subnetwork of its own region, never the provider's default one.
    for (const i of sent)
      expect(i.body.networkInterfaces[0].subnetwork).toBe(SUBNETS[regionOf(i.zone) as keyof typeof SUBNETS]);
    // Priced where it landed: Tokyo's list price, above us-central1's.
    expect(vmHourlyPrice(spec.machineType, regionOf(placed.zone), true)).toBeGreaterThan(
      vmHourlyPrice(spec.machineType, 'us-central1', true),
    );

    // Remembered: us-central1 ran out as a whole, so the next VM goes to Tokyo first, with no insert in us-central1.
    expect(memory.regionsOut(spec.zones, 1000)).toEqual(['us-central1']);
    expect(memory.order(spec.zones, 1000)).toEqual([...TOKYO, ...CENTRAL]);
    const second = `kumo-region-${randomUUID().slice(0, 8)}`;
    const again = await createInZones(
      gce,
      { name: second, spec, requestId: randomUUID() },
      memory.order(spec.zones, 1000),
    );
    expect(again.zone).toBe('asia-northeast1-a');
    expect(fake.inserts.filter((i) => i.body.name === second).map((i) => i.zone)).toEqual(['asia-northeast1-a']);
    // Memory fades: after it, us-central1 is tried first again.
    expect(memory.order(spec.zones, 61_000)).toEqual([...CENTRAL, ...TOKYO]);
  });
});

describe('gangs', () => {
  it('a gang of 4 lands in one zone: a zone with room for 2 is left, its 2 VMs deleted', async () => {
    fake.capacity('us-central1-a', 2);
    const members = gangOf(4);
    const placed = await createGangInZones(
      gce,
      { id: `job-${randomUUID().slice(0, 8)}`, members, spec: a100Spec({ zones: CENTRAL }) },
      CENTRAL,
    );

    expect(placed.zone).toBe('us-central1-b');
    expect(placed.skipped).toEqual([{ zone: 'us-central1-a', code: 'ZONE_RESOURCE_POOL_EXHAUSTED' }]);
    const names = members.map((m) => m.name);
    const live = fake.instances().filter((i) => names.includes(i.name));
    expect(live).toHaveLength(4);
    expect(new Set(live.map((i) => String(i.zone).split('/').pop()))).toEqual(new Set(['us-central1-b']));
    // The two made in us-central1-a before it ran out were deleted, not left billing.
    expect(fake.inserts.filter((i) => names.includes(i.body.name) && i.zone === 'us-central1-a')).toHaveLength(3);
    expect(fake.instances().filter((i) => names.includes(i.name) && String(i.zone).endsWith('/us-central1-a'))).toEqual(
      [],
    );
  });

  it("a compact pool's gang carries one compact placement policy, COLLOCATED for exactly its VMs", async () => {
    const members = gangOf(4);
    const gang = `job-${randomUUID().slice(0, 8)}`;
    const placed = await createGangInZones(
      gce,
      { id: gang, members, spec: a100Spec({ zones: CENTRAL, placement: 'compact' }) },
      CENTRAL,
    );

    const url = `projects/${PROJECT}/regions/us-central1/resourcePolicies/kumo-gang-${gang}-4`;
    expect(placed.placementPolicy).toBe(url);
    expect(fake.resourcePolicies.get(`regions/us-central1/resourcePolicies/kumo-gang-${gang}-4`)).toMatchObject({
      name: `kumo-gang-${gang}-4`,
      groupPlacementPolicy: { collocation: 'COLLOCATED', vmCount: 4 },
    });
    const bodies = fake.inserts.filter((i) => members.some((m) => m.name === i.body.name));
    expect(bodies).toHaveLength(4);
    for (const b of bodies) expect(b.body.resourcePolicies).toEqual([url]);
    // A repeat of the walk finds its policy (409 on its own name) and its VMs: nothing new.
    const again = await createGangInZones(
      gce,
      { id: gang, members, spec: a100Spec({ zones: CENTRAL, placement: 'compact' }) },
      CENTRAL,
    );
    expect(again.zone).toBe(placed.zone);
    expect(fake.instances().filter((i) => members.some((m) => m.name === i.name))).toHaveLength(4);
  });
});

describe('reservations and flex-start', () => {
  it('a pool with a reservation consumes that specific reservation', async () => {
    const name = `kumo-resv-${randomUUID().slice(0, 8)}`;
    await gce.create({
      name,
      zone: 'us-central1-a',
      requestId: randomUUID(),
      spec: a100Spec({ spot: false, reservation: 'a100-block' }),
    });
    const body = fake.inserts.find((i) => i.body.name === name)!.body;
    expect(body.reservationAffinity).toEqual({
      consumeReservationType: 'SPECIFIC_RESERVATION',
      key: 'compute.googleapis.com/reservation-name',
      values: ['a100-block'],
    });
    expect(body.scheduling.provisioningModel).toBe('STANDARD');
  });

  it('a flex-start pool asks for FLEX_START with its maximum run duration, deleted at the end', async () => {
    const name = `kumo-flex-${randomUUID().slice(0, 8)}`;
    await gce.create({
      name,
      zone: 'us-central1-a',
      requestId: randomUUID(),
      spec: a100Spec({ spot: false, flexStart: { maxRunDurationSeconds: 7200 } }),
    });
    const body = fake.inserts.find((i) => i.body.name === name)!.body;
    expect(body.scheduling).toMatchObject({
      provisioningModel: 'FLEX_START',
      maxRunDuration: { seconds: '7200' },
      instanceTerminationAction: 'DELETE',
      onHostMaintenance: 'TERMINATE',
    });
    expect(body.reservationAffinity).toEqual({ consumeReservationType: 'NO_RESERVATION' });
  });
});
