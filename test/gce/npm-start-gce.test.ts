import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCompute, type FakeCompute } from '../fakes/compute-server';
import { startFakePubSub, type FakePubSub } from '../fakes/pubsub-server';
import { spawnControlPlane, stopProcess } from '../support/control-plane-process';
import { client } from '../support/http';
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

const TOKEN = 'gce-start-admin-token-0123456789';

/** How infra/ runs the control plane on GCP: `npm start` with the Pub/Sub bus and the Compute Engine fleet. */
describe('npm start with KUMO_PROVIDER=gce and KUMO_BUS=pubsub', () => {
  let redis: TestRedis;
  let compute: FakeCompute;
  let pubsub: FakePubSub;
  let cp: Awaited<ReturnType<typeof spawnControlPlane>>;
  let port: number;

  beforeAll(async () => {
    [redis, compute, pubsub, port] = await Promise.all([
      startTestRedis(),
      startFakeCompute(),
      startFakePubSub(),
      freePort(),
    ]);
    cp = await spawnControlPlane({
      REDIS_URL: redis.url,
      PORT: String(port),
      KUMO_ADMIN_TOKEN: TOKEN,
      KUMO_PROVIDER: 'gce',
      KUMO_BUS: 'pubsub',
      GOOGLE_CLOUD_PROJECT: 'kumo-test',
      PUBSUB_EMULATOR_HOST: pubsub.host,
      KUMO_COMPUTE_ENDPOINT: compute.endpoint,
      // As infra/ sets them: the VMs read these secrets at boot; their metadata names them only.
      KUMO_WORKER_REDIS_URL_SECRET: 'kumo-redis-url',
      KUMO_WORKER_TOKEN_SECRET: 'kumo-worker-token-{pool}',
      KUMO_CONTROL_URL: 'https://kumo.internal:8080',
      KUMO_ARTIFACTS_BUCKET: 'kumo-test-artifacts',
      KUMO_PREFIX: 'team-ja',
    });
  });
  afterAll(async () => {
    if (cp?.proc.exitCode === null) {
      await stopProcess(cp.proc);
    }
    await Promise.all([redis?.stop(), compute?.close(), pubsub?.close()]);
  });

  it('turns demand on an A100 pool into a spot insert with a requestId, through Pub/Sub', async () => {
    const api = client(`http://127.0.0.1:${port}`, TOKEN);
    const put = await api.put('/v1/pools/a100', {
      machineType: 'a2-highgpu-1g',
      gpu: { type: 'nvidia-tesla-a100', count: 1 },
      spot: true,
      zones: ['us-central1-a', 'us-central1-b'],
      min: 0,
      max: 1,
    });
    expect(put.status).toBe(201);
    const job = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'on-gce',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 10 },
      pool: 'a100',
      run: { builtin: 'noop' },
    });
    expect(job.status).toBe(201);
    const insert = await waitFor(async () => compute.inserts[0], { timeoutMs: 30_000, what: 'an insert' });
    expect(insert.zone).toBe('us-central1-a');
    expect(insert.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(insert.body.scheduling?.provisioningModel).toBe('SPOT');
    const md = Object.fromEntries(
      (insert.body.metadata?.items ?? []).map((i: { key: string; value: string }) => [i.key, i.value]),
    );
    expect(md).toMatchObject({
      'kumo-redis-url-secret': 'projects/kumo-test/secrets/kumo-redis-url',
      'kumo-worker-token-secret': 'projects/kumo-test/secrets/kumo-worker-token-a100',
      'kumo-control-url': 'https://kumo.internal:8080',
    });
    // The VM's worker reports on this control plane's bus, under its prefix, and keeps its tasks' logs
    // in its bucket: left to its defaults (Redis Streams, 'kumo', a folder on the VM), no count would move
    // and no log would be served.
    const extraEnv = Object.fromEntries(
      String(md['kumo-extra-env'] ?? '')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(extraEnv).toMatchObject({
      KUMO_BUS: 'pubsub',
      KUMO_PREFIX: 'team-ja',
      GOOGLE_CLOUD_PROJECT: 'kumo-test',
      KUMO_ARTIFACTS_BUCKET: 'kumo-test-artifacts',
    });
    expect(JSON.stringify(insert.body)).not.toContain(redis.url);
    const pool = await waitFor(
      async () => {
        const p = (await api.get('/v1/pools/a100')).body;
        return p.vms.some((v: { state: string }) => v.state === 'running') ? p : undefined;
      },
      { timeoutMs: 30_000, what: 'the VM record to be running' },
    );
    expect(pool.vms[0].zone).toBe('us-central1-a');
  });
});
