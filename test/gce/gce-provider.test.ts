import { KumoError } from '@kumo/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GceProvider } from '@kumo/provisioner';
import { startFakeCompute, type FakeCompute } from '../fakes/compute-server';
import { a100Spec, metadataOf, provider, rejectionOf, request, STARTUP_SCRIPT } from './helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let fake: FakeCompute;
let gce: GceProvider;

beforeAll(async () => {
  fake = await startFakeCompute();
  gce = provider(fake);
});

afterEach(() => {
  // Every call the client made must be one the fake knows: otherwise the fake is not the real API.
  expect(fake.unknownRoutes).toEqual([]);
  fake.slowOperations(0);
});

afterAll(async () => {
  await gce.close();
  await fake.close();
});

describe('create', () => {
  it('sends the A100 spot instance body with accelerators, SPOT scheduling, startup script, labels and the requestId', async () => {
    const req = request('us-central1-a');
    const vm = await gce.create(req);

    expect(vm).toMatchObject({
      name: req.name,
      zone: 'us-central1-a',
      pool: 'a100-spot',
      status: 'running',
      preempted: false,
    });
    const sent = fake.inserts.find((i) => i.body.name === req.name)!;
    expect(sent.requestId).toBe(req.requestId);
    expect(sent.requestId).toMatch(UUID);
    const body = sent.body;
    expect(body.machineType).toBe('zones/us-central1-a/machineTypes/a2-highgpu-1g');
    expect(body.guestAccelerators).toEqual([
      { acceleratorType: 'zones/us-central1-a/acceleratorTypes/nvidia-tesla-a100', acceleratorCount: 1 },
    ]);
    expect(body.scheduling).toMatchObject({
      provisioningModel: 'SPOT',
      instanceTerminationAction: 'DELETE',
      onHostMaintenance: 'TERMINATE',
      automaticRestart: false,
    });
    expect(body.labels).toEqual({ team: 'llm', kumo: 'worker', 'kumo-pool': 'a100-spot' });
    const md = metadataOf(body);
    expect(md['startup-script']).toBe(STARTUP_SCRIPT);
    expect(md['startup-script']).toContain('TimeoutStopSec=25');
    expect(md).toMatchObject({
      'kumo-pool': 'a100-spot',
      'kumo-control-url': 'http://10.0.0.2:8080',
      'install-nvidia-driver': 'True',
    });
    // int64 travels as a string; the boot disk is a Deep Learning VM image.
    expect(body.disks[0].initializeParams.diskSizeGb).toBe('200');
    expect(body.disks[0].initializeParams.sourceImage).toContain('deeplearning-platform-release');
    expect(body.serviceAccounts[0].scopes).toEqual(['https://www.googleapis.com/auth/cloud-platform']);
  });

  it('uses STANDARD scheduling that restarts after maintenance for a non-spot pool', async () => {
    const req = request('us-central1-a', {
      spec: a100Spec({ spot: false, image: 'projects/p/global/images/family/mine' }),
    });
    await gce.create(req);
    const body = fake.inserts.find((i) => i.body.name === req.name)!.body;
    expect(body.scheduling).toMatchObject({
      provisioningModel: 'STANDARD',
      onHostMaintenance: 'TERMINATE',
      automaticRestart: true,
    });
    expect(body.scheduling.instanceTerminationAction).toBeUndefined();
    expect(body.disks[0].initializeParams.sourceImage).toBe('projects/p/global/images/family/mine');
  });

  it('rejects a machine type and GPU that do not belong together, before calling the API', async () => {
    const before = fake.inserts.length;
    const wrongGpu = await rejectionOf(
      gce.create(request('us-central1-a', { spec: a100Spec({ gpu: { type: 'nvidia-a100-80gb', count: 1 } }) })),
    );
    const wrongCount = await rejectionOf(
      gce.create(
        request('us-central1-a', {
          spec: a100Spec({ machineType: 'a2-ultragpu-1g', gpu: { type: 'nvidia-a100-80gb', count: 2 } }),
        }),
      ),
    );
    const a100OnN1 = await rejectionOf(
      gce.create(request('us-central1-a', { spec: a100Spec({ machineType: 'n1-standard-8' }) })),
    );
    for (const err of [wrongGpu, wrongCount, a100OnN1]) {
      expect(err).toBeInstanceOf(KumoError);
      expect(err.code).toBe('PROVIDER_REJECTED');
      expect(err.retryable).toBe(false);
    }
    expect(fake.inserts.length).toBe(before);
    // The right pair for the 80 GB part goes through.
    const ok = request('us-central1-a', {
      spec: a100Spec({ machineType: 'a2-ultragpu-1g', gpu: { type: 'nvidia-a100-80gb', count: 1 } }),
    });
    await expect(gce.create(ok)).resolves.toMatchObject({ name: ok.name });
  });

  it('maps a stockout to ZONE_RESOURCE_POOL_EXHAUSTED with the zone, and creates nothing', async () => {
    fake.stockout('us-central1-f');
    fake.stockout('us-central1-c', 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS');
    for (const zone of ['us-central1-f', 'us-central1-c']) {
      const req = request(zone);
      const err = await rejectionOf(gce.create(req));
      expect(err).toBeInstanceOf(KumoError);
      expect(err.code).toBe('ZONE_RESOURCE_POOL_EXHAUSTED');
      expect(err.retryable).toBe(true);
      expect(err.details.zone).toBe(zone);
      expect(fake.instance(req.name)).toBeUndefined();
    }
    fake.restock('us-central1-f');
    fake.restock('us-central1-c');
  });

  it('maps an operation quota error to QUOTA_EXCEEDED with the metric and the region', async () => {
    fake.quota('europe-west4', 'NVIDIA_A100_GPUS');
    const err = await rejectionOf(gce.create(request('europe-west4-a')));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toMatchObject({ metric: 'NVIDIA_A100_GPUS', region: 'europe-west4', zone: 'europe-west4-a' });
    fake.clearQuota('europe-west4');
  });

  it('maps a synchronous 403 quota answer (ErrorInfo QUOTA_EXCEEDED) the same way', async () => {
    fake.failNext(403, {
      route: 'insert',
      reason: 'quotaExceeded',
      errorInfo: { reason: 'QUOTA_EXCEEDED', metadata: { quota_metric: 'NVIDIA_A100_GPUS', region: 'us-central1' } },
    });
    const err = await rejectionOf(gce.create(request('us-central1-a')));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toMatchObject({ metric: 'NVIDIA_A100_GPUS', region: 'us-central1' });
  });

  it('creates one instance when the same request (same requestId) comes twice', async () => {
    const req = request('us-central1-b');
    const first = await gce.create(req);
    const again = await gce.create(req);
    expect(again.name).toBe(first.name);
    expect(fake.inserts.filter((i) => i.body.name === req.name)).toHaveLength(2);
    expect(fake.instances().filter((i) => i.name === req.name)).toHaveLength(1);
  });

  it('treats 409 on its own name (a new requestId) as success and returns the instance', async () => {
    const req = request('us-central1-b');
    await gce.create(req);
    const retry = await gce.create({ ...req, requestId: crypto.randomUUID() });
    expect(retry).toMatchObject({ name: req.name, zone: 'us-central1-b', pool: 'a100-spot' });
    expect(fake.instances().filter((i) => i.name === req.name)).toHaveLength(1);
  });

  it('refuses to adopt an instance of the same name that is not kumo-labelled', async () => {
    const stranger = provider(fake, { labelKey: 'someone-else' });
    const req = request('us-central1-b');
    await stranger.create(req);
    await stranger.close();
    const err = await rejectionOf(gce.create({ ...req, requestId: crypto.randomUUID() }));
    expect(err.code).toBe('PROVIDER_REJECTED');
  });

  it('makes a 503 on insert retryable (nothing was created) and the retry succeeds', async () => {
    fake.failNext(503, { route: 'insert' });
    const req = request('us-central1-a');
    const err = await rejectionOf(gce.create(req));
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.details.outcome).toBe('not-created');
    expect(fake.instance(req.name)).toBeUndefined();

    const vm = await gce.create(req);
    expect(vm.name).toBe(req.name);
    expect(fake.instances().filter((i) => i.name === req.name)).toHaveLength(1);
  });

  it('treats 500 as not created but 502 (an HTML page) as an unknown outcome, not retryable', async () => {
    fake.failNext(500, { route: 'insert' });
    const e500 = await rejectionOf(gce.create(request('us-central1-a')));
    expect(e500).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });

    fake.failNext(502, { route: 'insert', html: true });
    const e502 = await rejectionOf(gce.create(request('us-central1-a')));
    expect(e502).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: false });
    expect(e502.details).toMatchObject({ outcome: 'unknown', httpStatus: 502 });
  });

  it('after an insert that timed out, the same request again finds the one VM the first call made', async () => {
    const quick = provider(fake, { callTimeoutMs: 300 });
    fake.stallNext(1_000, 'insert');
    const req = request('us-central1-a');
    const err = await rejectionOf(quick.create(req));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: false });
    expect(err.details.outcome).toBe('unknown');
    // The insert landed although its answer never arrived in time.
    expect(fake.instance(req.name)).toBeDefined();

    const vm = await quick.create(req);
    expect(vm.name).toBe(req.name);
    expect(fake.instances().filter((i) => i.name === req.name)).toHaveLength(1);
    await quick.close();
  });

  it('waits through a slow operation with repeated wait calls', async () => {
    // Well past the fake's 200 ms wait hold, so at least one wait answers RUNNING even on a slow machine.
    fake.slowOperations(1_200);
    const waitsBefore = fake.requests.filter((r) => r.path.endsWith('/wait')).length;
    const vm = await gce.create(request('us-central1-a'));
    expect(vm.status).toBe('running');
    const waits = fake.requests.filter((r) => r.path.endsWith('/wait')).length - waitsBefore;
    expect(waits).toBeGreaterThanOrEqual(2);
  });

  it('gives up on an operation that outlives operationTimeoutMs with an unknown outcome', async () => {
    const impatient = provider(fake, { operationTimeoutMs: 400 });
    fake.slowOperations(3_000);
    const err = await rejectionOf(impatient.create(request('us-central1-a')));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: false });
    expect(err.details.outcome).toBe('unknown');
    await impatient.close();
  });

  it('refuses a requestId that is not a UUID', async () => {
    const err = await rejectionOf(gce.create(request('us-central1-a', { requestId: 'create-1' })));
    expect(err.code).toBe('PROVIDER_REJECTED');
  });
});

describe('delete', () => {
  it('deletes an instance and treats a missing one as already deleted', async () => {
    const req = request('us-central1-a');
    await gce.create(req);
    await gce.delete(req.name, 'us-central1-a');
    expect(fake.instance(req.name)).toBeUndefined();

    await expect(gce.delete(req.name, 'us-central1-a')).resolves.toBeUndefined();
    await expect(gce.delete('kumo-never-was', 'us-central1-b')).resolves.toBeUndefined();
  });

  it('reports a 503 on delete as retryable', async () => {
    fake.failNext(503, { route: 'delete' });
    const err = await rejectionOf(gce.delete('kumo-whatever', 'us-central1-a'));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
  });
});

describe('list', () => {
  it('finds only kumo-labelled instances across zones, over several pages, and reports a preempted one', async () => {
    const paged = await startFakeCompute({ pageSize: 1 });
    const kumo = provider(paged);
    const stranger = provider(paged, { labelKey: 'other' });
    try {
      const a = request('us-central1-a');
      const b = request('us-central1-b', { spec: a100Spec({ spot: false }) });
      const c = request('us-central1-b');
      await kumo.create(a);
      await kumo.create(b);
      await kumo.create(c);
      await stranger.create(request('us-central1-a'));

      paged.preempt(c.name);
      const vms = await kumo.list();
      expect(vms.map((v) => v.name).sort()).toEqual([a.name, b.name, c.name].sort());
      const byName = Object.fromEntries(vms.map((v) => [v.name, v]));
      expect(byName[a.name]).toMatchObject({
        zone: 'us-central1-a',
        pool: 'a100-spot',
        status: 'running',
        preempted: false,
      });
      expect(byName[b.name]).toMatchObject({ zone: 'us-central1-b', status: 'running', preempted: false });
      expect(byName[c.name]).toMatchObject({ zone: 'us-central1-b', status: 'terminated', preempted: true });
      expect(typeof byName[a.name]!.createdAt).toBe('number');
      // The label filter went to the API, and paging took more than one call.
      const lists = paged.requests.filter((r) => r.path.endsWith('/aggregated/instances'));
      expect(lists[0]!.query.filter).toBe('labels.kumo = worker');
      expect(lists.length).toBeGreaterThan(1);
      expect(paged.unknownRoutes).toEqual([]);
    } finally {
      await kumo.close();
      await stranger.close();
      await paged.close();
    }
  });

  it('reports a 503 on list as retryable PROVIDER_UNAVAILABLE', async () => {
    fake.failNext(503, { route: 'list' });
    const err = await rejectionOf(gce.list());
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
  });
});

it('close() can be called twice', async () => {
  const p = provider(fake);
  await p.close();
  await expect(p.close()).resolves.toBeUndefined();
});
