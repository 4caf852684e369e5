import { randomUUID } from 'node:crypto';
import { Provisioner } from '@kumo/provisioner';
import { createLogger, InMemoryBus, listHourlyPrice, wallClock, type FleetEvent } from '@kumo/shared';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeCompute, type FakeCompute } from '../fakes/compute-server';
import { deleteKeys, testPrefix } from '../support/prefix';
import { CENTRAL, SUBNETS, TOKYO } from './regions';
import { a100Spec, provider } from './helpers';

let fake: FakeCompute;
let gce: ReturnType<typeof provider>;
let bus: InMemoryBus;
let provisioner: Provisioner;
const events: FleetEvent[] = [];
const prefix = testPrefix('prov-capacity');

beforeAll(async () => {
  fake = await startFakeCompute();
  gce = provider(fake);
  bus = new InMemoryBus();
  await bus.subscribe('fleet', 'test', async (m) => void events.push(m.data));
  const logger = createLogger({ name: 'test', level: 'silent' });
  provisioner = new Provisioner({
    redisUrl: inject('redisUrl'),
    prefix,
    bus,
    provider: gce,
    clock: wallClock,
    logger,
    autoReconcile: false,
  });
  await provisioner.start();
});

afterAll(async () => {
  await provisioner.stop();
  await bus.close();
  await gce.close();
  await fake.close();
  await deleteKeys(prefix);
});

const eventsOf = (names: string[]) => events.filter((e) => names.includes(e.name));

describe('the provisioner, on the local Compute Engine server', () => {
  it('after us-central1 runs out, VMs go to asia-northeast1 with its subnetwork and price, and the next create starts there', async () => {
    for (const z of CENTRAL) fake.stockout(z);
    const spec = a100Spec({ pool: 'two-regions', zones: [...CENTRAL, ...TOKYO], subnetworks: SUBNETS });
    const first = `kumo-two-${randomUUID().slice(0, 8)}`;
    await bus.publish('provision', { type: 'create', pool: 'two-regions', name: first, requestId: randomUUID(), spec });
    expect(eventsOf([first])).toMatchObject([
      {
        state: 'running',
        zone: 'asia-northeast1-a',
        priceUsdPerHour: listHourlyPrice('a2-highgpu-1g', 'asia-northeast1', true),
      },
    ]);
    expect(fake.inserts.filter((i) => i.body.name === first).map((i) => i.zone)).toEqual([
      ...CENTRAL,
      'asia-northeast1-a',
    ]);
    expect(fake.instance(first)!.networkInterfaces[0].subnetwork).toBe(SUBNETS['asia-northeast1']);

    const second = `kumo-two-${randomUUID().slice(0, 8)}`;
    await bus.publish('provision', {
      type: 'create',
      pool: 'two-regions',
      name: second,
      requestId: randomUUID(),
      spec,
    });
    expect(eventsOf([second])).toMatchObject([{ state: 'running', zone: 'asia-northeast1-a' }]);
    expect(fake.inserts.filter((i) => i.body.name === second).map((i) => i.zone)).toEqual(['asia-northeast1-a']);
    for (const z of CENTRAL) fake.restock(z);
  });

  it('a create-gang command puts all 4 VMs in one zone, under one compact placement policy', async () => {
    fake.capacity('asia-northeast1-a', 1);
    const members = Array.from({ length: 4 }, (_, k) => ({
      name: `kumo-gang4-${randomUUID().slice(0, 6)}-${k}`,
      requestId: randomUUID(),
    }));
    const gang = `job-${randomUUID().slice(0, 8)}`;
    const spec = a100Spec({ pool: 'gang', zones: TOKYO, placement: 'compact', subnetworks: SUBNETS });
    await bus.publish('provision', { type: 'create-gang', pool: 'gang', gang, members, spec });
    const up = eventsOf(members.map((m) => m.name));
    expect(up.map((e) => e.state)).toEqual(['running', 'running', 'running', 'running']);
    expect(new Set(up.map((e) => e.zone))).toEqual(new Set(['asia-northeast1-b']));
    const policy = `projects/kumo-test/regions/asia-northeast1/resourcePolicies/kumo-gang-${gang}-4`;
    for (const m of members) expect(fake.instance(m.name, 'asia-northeast1-b')!.resourcePolicies).toEqual([policy]);
    expect(fake.instance(members[0]!.name, 'asia-northeast1-a')).toBeUndefined();
    fake.restock('asia-northeast1-a');
  });
});
