import { KumoError } from '@kumo/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GceProvider } from '@kumo/provisioner';
import { startFakeCompute, type FakeCompute } from '../fakes/compute-server';
import { a100Spec, metadataOf, PROJECT, provider, rejectionOf, request } from './helpers';

/**
 * The metadata server answers every process on a worker VM, and the instance's metadata is readable by
 * anyone in the project with compute.instances.get: the instances kumo inserts (through the official
 * client, against the local Compute Engine server) carry the names of the Secret Manager secrets only.
 */
const REDIS_URL = 'redis://:mem0rystore-auth-8f2c@10.0.0.3:6379';
const PASSWORD = 'mem0rystore-auth-8f2c';
const WORKER_TOKEN = 'kwt_a100-spot_Zx9Q2hY7rT0pL4sN8mK3';

let fake: FakeCompute;
let gce: GceProvider;

beforeAll(async () => {
  fake = await startFakeCompute();
  gce = provider(fake, { workerSecrets: { redisUrl: 'kumo-redis-url', workerToken: 'kumo-worker-token-{pool}' } });
});

afterAll(async () => {
  await gce.close();
  await fake.close();
});

/** Every metadata value of every instance the fake was asked to insert, and of every instance it holds. */
function allMetadata(): string {
  return JSON.stringify([...fake.inserts.map((i) => i.body.metadata), ...fake.instances().map((i) => i.metadata)]);
}

describe('worker VM secrets', () => {
  it('inserts an instance whose metadata names the secrets (one worker token per pool) and holds no Redis URL and no token', async () => {
    const req = request('us-central1-a', {
      spec: a100Spec({ worker: { controlUrl: 'http://10.0.0.2:8080', extraEnv: { KUMO_BUS: 'pubsub' } } }),
    });
    await gce.create(req);
    const stored = fake.instances().find((i) => i.name === req.name);
    expect(stored).toBeDefined();
    const md = metadataOf(stored!);
    expect(md).toMatchObject({
      'kumo-redis-url-secret': `projects/${PROJECT}/secrets/kumo-redis-url`,
      'kumo-worker-token-secret': `projects/${PROJECT}/secrets/kumo-worker-token-a100-spot`,
      'kumo-control-url': 'http://10.0.0.2:8080',
    });
    expect(md['kumo-redis-url']).toBeUndefined();
    expect(md['kumo-worker-token']).toBeUndefined();
    expect(md['kumo-extra-env']).not.toMatch(/REDIS_URL|TOKEN/);
    expect(allMetadata()).not.toMatch(/redis:\/\/|rediss:\/\//);
  });

  it('refuses a VM spec that carries a Redis URL (the old KUMO_WORKER_REDIS_URL) or a secret among its variables, before calling the API', async () => {
    const before = fake.inserts.length;
    const withUrl = await rejectionOf(
      gce.create(
        request('us-central1-a', {
          spec: a100Spec({ worker: { controlUrl: 'http://10.0.0.2:8080', redisUrl: REDIS_URL } }),
        }),
      ),
    );
    const inEnv = await Promise.all(
      ([{ REDIS_URL }, { KUMO_WORKER_TOKEN: WORKER_TOKEN }] as Record<string, string>[]).map((extraEnv) =>
        rejectionOf(gce.create(request('us-central1-a', { spec: a100Spec({ worker: { extraEnv } }) }))),
      ),
    );
    for (const err of [withUrl, ...inEnv]) {
      expect(err).toBeInstanceOf(KumoError);
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.retryable).toBe(false);
      expect(JSON.stringify(err.details)).not.toContain(PASSWORD);
    }
    expect(withUrl.message).toContain('KUMO_WORKER_REDIS_URL_SECRET');
    expect(fake.inserts.length).toBe(before);
    expect(allMetadata()).not.toContain(PASSWORD);
    expect(allMetadata()).not.toContain(WORKER_TOKEN);
  });

  it('takes secret ids and resource names, and refuses anything else at construction', async () => {
    const pinned = provider(fake, { workerSecrets: { redisUrl: 'projects/other-proj/secrets/redis/versions/3' } });
    const req = request('us-central1-b');
    await pinned.create(req);
    expect(metadataOf(fake.inserts.find((i) => i.body.name === req.name)!.body)['kumo-redis-url-secret']).toBe(
      'projects/other-proj/secrets/redis/versions/3',
    );
    await pinned.close();

    for (const workerSecrets of [
      { redisUrl: REDIS_URL },
      { workerToken: 'projects/p/secrets/a b' },
      { workerToken: '' },
    ]) {
      let err: unknown;
      try {
        provider(fake, { workerSecrets });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KumoError);
      expect((err as KumoError).code).toBe('CONFIG_INVALID');
    }
  });
});
