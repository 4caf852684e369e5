import { PubSub } from '@google-cloud/pubsub';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PubSubBus, type BusMessage, type PubSubBusOptions } from '@kumo/shared';
import { startFakePubSub, type FakePubSub } from '../fakes/pubsub-server';
import { testPrefix } from '../support/prefix';
import { busContract, fleetEvent, progressBatch, range, sleep, waitFor } from './bus-contract';

const PROJECT = 'kumo-test';
const logger = pino({ level: 'silent' });
let fake: FakePubSub;
let admin: PubSub;

beforeAll(async () => {
  fake = await startFakePubSub();
  admin = new PubSub({
    projectId: PROJECT,
    apiEndpoint: fake.host,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  });
});

afterAll(async () => {
  await admin.close();
  await fake.close();
});

function makeBus(prefix: string, extra: Partial<PubSubBusOptions> = {}): PubSubBus {
  return new PubSubBus({
    projectId: PROJECT,
    topicPrefix: prefix,
    apiEndpoint: fake.host,
    emulatorMode: true,
    logger,
    // Nacked messages come back after 100 ms in tests, not the production 10 s.
    retryBackoffMs: { min: 100, max: 1000 },
    ...extra,
  });
}

/** Deletes what a bus created, through the same RPCs a person would use (List*, Delete*). */
async function deleteResources(prefix: string): Promise<void> {
  const [subs] = await admin.getSubscriptions();
  await Promise.all(subs.filter((s) => s.name.split('/').pop()!.startsWith(`${prefix}-`)).map((s) => s.delete()));
  const [topics] = await admin.getTopics();
  await Promise.all(topics.filter((t) => t.name.split('/').pop()!.startsWith(`${prefix}-`)).map((t) => t.delete()));
}

busContract(
  'pubsub (real client, local gRPC server)',
  async () => {
    const prefix = testPrefix('bus');
    return { bus: makeBus(prefix), cleanup: () => deleteResources(prefix) };
  },
  { mayDuplicate: true },
);

describe('PubSubBus', () => {
  let prefix: string;
  const buses: PubSubBus[] = [];
  const open = (extra: Partial<PubSubBusOptions> = {}): PubSubBus => {
    const bus = makeBus(prefix, extra);
    buses.push(bus);
    return bus;
  };

  beforeAll(() => {
    prefix = testPrefix('bus');
  });

  afterEach(async () => {
    fake.server.duplicateEvery = undefined;
    fake.server.reorder = false;
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await deleteResources(prefix);
  });

  it('duplicate and out-of-order deliveries change no count when the handler dedupes by message id', async () => {
    fake.server.duplicateEvery = 3;
    fake.server.reorder = true;
    const duplicatedBefore = fake.stats.duplicated;
    const bus = open();
    const applied = new Set<string>();
    const perTask = new Map<number, number>();
    const firstSeenOrder: number[] = [];
    let deliveries = 0;
    await bus.subscribe(
      'progress',
      'ingest',
      async (m: BusMessage<'progress'>) => {
        deliveries++;
        // The idempotent apply every kumo handler does: by message id, once.
        if (applied.has(m.id)) return;
        applied.add(m.id);
        for (const e of m.data.events) {
          perTask.set(e.i, (perTask.get(e.i) ?? 0) + 1);
          firstSeenOrder.push(e.i);
        }
      },
      { concurrency: 16, ackDeadlineMs: 2000 },
    );
    const n = 300;
    await Promise.all(range(n).map((i) => bus.publish('progress', progressBatch(i))));
    await waitFor(() => applied.size === n, 15_000);
    // Let the late duplicates land too.
    await waitFor(() => deliveries >= n + (fake.stats.duplicated - duplicatedBefore), 5000);
    await sleep(300);

    expect(fake.stats.duplicated - duplicatedBefore).toBeGreaterThan(n / 10);
    expect(deliveries).toBeGreaterThan(n);
    expect(firstSeenOrder).not.toEqual([...firstSeenOrder].sort((a, b) => a - b));
    expect(perTask.size).toBe(n);
    expect([...perTask.values()].every((c) => c === 1)).toBe(true);
  });

  it('retries a publish the server refused with UNAVAILABLE, and delivers the message once', async () => {
    const bus = open();
    const got: BusMessage<'fleet'>[] = [];
    await bus.subscribe('fleet', 'retry', async (m) => void got.push(m), { ackDeadlineMs: 1000 });
    const callsBefore = fake.stats.publishCalls;
    fake.server.failNextPublish(status.UNAVAILABLE);
    const id = await bus.publish('fleet', fleetEvent('vm-retried'));
    expect(fake.stats.publishCalls - callsBefore).toBe(2);
    await waitFor(() => got.length >= 1);
    await sleep(300);
    expect(got.map((m) => m.id)).toEqual([id]);
  });

  it('fails a publish the server rejects for good with a typed, non-retryable error', async () => {
    const bus = open();
    await bus.publish('fleet', fleetEvent('creates-the-topic'));
    fake.server.failNextPublish(status.INVALID_ARGUMENT);
    const err = await bus.publish('fleet', fleetEvent('vm-bad')).catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'KumoError',
      code: 'INTERNAL',
      retryable: false,
      details: { topic: 'fleet', grpcCode: status.INVALID_ARGUMENT },
    });
  });

  it('does not create anything when createIfMissing is off', async () => {
    const bus = open({ createIfMissing: false });
    const err = await bus.publish('fleet', fleetEvent('nowhere')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', retryable: false, details: { grpcCode: status.NOT_FOUND } });
    const [exists] = await admin.topic(`${prefix}-fleet`).exists();
    expect(exists).toBe(false);
  });

  it('creates the subscription with a dead-letter topic, a subscription on it, and a retry policy', async () => {
    const bus = open({ maxDeliveryAttempts: 7 });
    await bus.subscribe('provision', 'provisioner', async () => {}, { ackDeadlineMs: 45_000 });
    const [meta] = await admin.subscription(`${prefix}-provision-provisioner`).getMetadata();
    expect(meta.topic).toBe(`projects/${PROJECT}/topics/${prefix}-provision`);
    expect(meta.ackDeadlineSeconds).toBe(45);
    expect(meta.deadLetterPolicy).toMatchObject({
      deadLetterTopic: `projects/${PROJECT}/topics/${prefix}-provision-provisioner-dead`,
      maxDeliveryAttempts: 7,
    });
    expect(Number(meta.retryPolicy?.minimumBackoff?.nanos)).toBe(100_000_000);
    const [deadSub] = await admin.subscription(`${prefix}-provision-provisioner-dead`).exists();
    expect(deadSub).toBe(true);
  });

  it('parks a message whose handler keeps failing on the dead-letter subscription after maxDeliveryAttempts', async () => {
    const bus = open({ maxDeliveryAttempts: 5 });
    const attempts: number[] = [];
    await bus.subscribe(
      'fleet',
      'poison',
      async (m) => {
        attempts.push(m.deliveryAttempt);
        throw new Error('always fails');
      },
      { ackDeadlineMs: 1000 },
    );
    const id = await bus.publish('fleet', fleetEvent('vm-poison'));
    const dead = `projects/${PROJECT}/subscriptions/${prefix}-fleet-poison-dead`;
    await waitFor(() => fake.server.backlog(dead).length > 0, 10_000);
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    const parked = fake.server.backlog(dead)[0]!;
    expect(parked.attributes['kumo-id']).toBe(id);
    expect(JSON.parse(parked.data.toString('utf8'))).toEqual(fleetEvent('vm-poison'));
  });

  it('reaches the server through PUBSUB_EMULATOR_HOST alone (read by the client library)', async () => {
    const saved = process.env.PUBSUB_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = fake.host;
    try {
      const bus = new PubSubBus({
        projectId: PROJECT,
        topicPrefix: prefix,
        logger,
        retryBackoffMs: { min: 100, max: 1000 },
      });
      buses.push(bus);
      const got: BusMessage<'fleet'>[] = [];
      await bus.subscribe('fleet', 'env', async (m) => void got.push(m), { ackDeadlineMs: 1000 });
      const id = await bus.publish('fleet', fleetEvent('via-env'));
      await waitFor(() => got.length >= 1);
      expect(got[0]!.id).toBe(id);
    } finally {
      if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
      else process.env.PUBSUB_EMULATOR_HOST = saved;
    }
  });
});
