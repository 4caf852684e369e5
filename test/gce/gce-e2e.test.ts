import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '@kumo/api';
import { GceProvider, Provisioner } from '@kumo/provisioner';
import { parseSchedulerEnv, Scheduler, workerSettingsOf } from '@kumo/scheduler';
import { createLogger, PubSubBus, wallClock, zoneRequestId, type PubSubBusOptions } from '@kumo/shared';
import { metadataUrlOf, parseWorkerEnv, PreemptionWatcher, WorkerAgent } from '@kumo/worker';
import { startFakeCompute, type FakeCompute } from '../fakes/compute-server';
import { startFakePubSub, type FakePubSub } from '../fakes/pubsub-server';
import { addsUp, client } from '../support/http';
import { testPrefix } from '../support/prefix';
import { waitFor } from '../support/wait';
import { taskHost } from '../support/task-host';
import { a100Spec, metadataOf, PROJECT, provider, request, STARTUP_SCRIPT } from './helpers';
import { startFakeMetadata, type FakeMetadata } from './metadata-server';

/**
 * Issue 3's "must show", end to end: the API, the Scheduler and the Provisioner composed in-process as
 * in production (KUMO_PROVIDER=gce, KUMO_BUS=pubsub), the official Compute Engine and Pub/Sub clients
 * against local servers that speak their wire protocols, and each VM simulated by the test the way its
 * startup script would run it: when the fake Compute server brings an instance to RUNNING, a worker
 * agent starts, configured from that instance's own metadata, with its own Pub/Sub client and a
 * metadata server to learn of its preemption from.
 */

const TOKEN = 'gce-e2e-admin-token-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POOL = 'a100';
const logger = createLogger({ name: 'gce-e2e', level: 'silent' });
/** Nacked messages come back in 100 ms here, not the production 10 s. */
const BUS_BACKOFF: PubSubBusOptions['retryBackoffMs'] = { min: 100, max: 1000 };

interface SimVm {
  name: string;
  zone: string;
  agent: WorkerAgent;
  /** What ended the VM's worker: its preemption notice, a delete (ACPI soft-off), or the test's end. */
  stoppedBy?: 'preemption notice' | 'deleted' | 'powered off' | 'test end';
  shutdown(why: NonNullable<SimVm['stoppedBy']>, handBackNow: boolean): Promise<void>;
}

interface ReconcileReport {
  lost: string[];
  preempted: string[];
  orphans: string[];
}

describe('on Compute Engine and Pub/Sub (local servers, official clients), end to end', () => {
  const prefix = testPrefix('gce');
  const redisUrl = inject('redisUrl');
  let compute: FakeCompute;
  let pubsub: FakePubSub;
  let metadata: FakeMetadata;
  let gce: GceProvider;
  let app: FastifyInstance;
  let scheduler: Scheduler;
  let provisioner: Provisioner;
  let api: ReturnType<typeof client>;
  const buses: PubSubBus[] = [];
  const vms = new Map<string, SimVm>();
  /** What went wrong inside the VM simulation (hooks cannot fail a test by throwing). */
  const vmErrors: string[] = [];
  const reports: ReconcileReport[] = [];
  const timers = new Set<NodeJS.Timeout>();
  /** VMs the test had the platform reclaim. */
  const preempted = new Set<string>();
  /** What the scheduler's main.ts tells new VMs' workers, from its environment on Google Cloud. */
  const workerSettings = (): ReturnType<typeof workerSettingsOf> =>
    workerSettingsOf(parseSchedulerEnv({ KUMO_BUS: 'pubsub', KUMO_PREFIX: prefix, GOOGLE_CLOUD_PROJECT: PROJECT }));
  /** Secret Manager as the VMs' startup script reads it (worker-startup.test.ts runs that part itself). */
  const secrets: Record<string, string> = { [`projects/${PROJECT}/secrets/kumo-redis-url`]: redisUrl };
  const workerSecrets = { redisUrl: 'kumo-redis-url' };

  const openBus = (topicPrefix: string, projectId: string): PubSubBus => {
    const bus = new PubSubBus({
      projectId,
      topicPrefix,
      apiEndpoint: pubsub.host,
      emulatorMode: true,
      logger,
      retryBackoffMs: BUS_BACKOFF,
    });
    buses.push(bus);
    return bus;
  };

  /** What the startup script and the worker's main.ts do on a new VM, from the instance's metadata. */
  async function bootVm(inst: Record<string, any>, zone: string): Promise<void> {
    const name = String(inst.name);
    if (vms.has(name)) vmErrors.push(`${name} booted twice`);
    const md = metadataOf(inst);
    // The env file the startup script writes (its extra lines last, so they win), parsed by the
    // worker's own env.ts. KUMO_METADATA_URL stands in for KUMO_ON_GCE=1: this VM's metadata server.
    const extra = Object.fromEntries(
      (md['kumo-extra-env'] ?? '')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const env = parseWorkerEnv({
      KUMO_POOL: md['kumo-pool'],
      KUMO_SLOTS: md['kumo-slots'],
      REDIS_URL: secrets[md['kumo-redis-url-secret'] ?? ''],
      KUMO_WORKER_NAME: name,
      KUMO_METADATA_URL: metadata.urlFor(name),
      KUMO_PREEMPTION_POLL_MS: '100',
      KUMO_TASK_LOCK_MS: '3000',
      KUMO_DRAIN_MS: '1000',
      KUMO_HEARTBEAT_MS: '200',
      LOG_LEVEL: 'silent',
      ...extra,
    });
    if (env.KUMO_BUS !== 'pubsub' || env.KUMO_PREFIX !== prefix || env.GOOGLE_CLOUD_PROJECT !== PROJECT) {
      // Started anyway, it would report where no ingester listens (and write keys outside this test's prefix).
      vmErrors.push(
        `${name}: the VM's worker would not reach the control plane's bus (${env.KUMO_BUS}, ${env.KUMO_PREFIX}, ${env.GOOGLE_CLOUD_PROJECT})`,
      );
      return;
    }
    const bus = openBus(env.KUMO_PREFIX, env.GOOGLE_CLOUD_PROJECT);
    const agent = new WorkerAgent({
      redisUrl: env.REDIS_URL,
      prefix: env.KUMO_PREFIX,
      bus,
      pool: env.KUMO_POOL,
      id: env.KUMO_WORKER_NAME,
      slots: env.KUMO_SLOTS,
      lockMs: env.KUMO_TASK_LOCK_MS,
      drainMs: env.KUMO_DRAIN_MS,
      heartbeatMs: env.KUMO_HEARTBEAT_MS,
      ...taskHost(),
      clock: wallClock,
      logger,
    });
    let stopping: Promise<void> | undefined;
    let started: Promise<void> = Promise.resolve();
    const vm: SimVm = {
      name,
      zone,
      agent,
      shutdown: (why, handBackNow) =>
        (stopping ??= (async () => {
          vm.stoppedBy = why;
          await watcher.stop();
          // As main.ts: a VM deleted while its worker is still starting stops it once it has started.
          await started.catch(() => undefined);
          await agent.stop({ handBackNow });
          await bus.close();
        })()),
    };
    // As main.ts wires it: the notice hands every running task back at once.
    const watcher = new PreemptionWatcher({
      metadataUrl: metadataUrlOf(env)!,
      clock: wallClock,
      logger,
      intervalMs: env.KUMO_PREEMPTION_POLL_MS,
      onPreempted: () => vm.shutdown('preemption notice', true),
    });
    vms.set(name, vm);
    started = agent.start();
    await started;
    watcher.start();
  }

  /** The platform reclaims a spot VM: the instance stops and its metadata says so, at the same moment. */
  function preempt(name: string): void {
    compute.preempt(name);
    metadata.setPreempted(name, true);
  }

  beforeAll(async () => {
    [compute, pubsub, metadata] = await Promise.all([startFakeCompute(), startFakePubSub(), startFakeMetadata()]);
    compute.onInsert((inst, zone) => {
      bootVm(inst, zone).catch((err: unknown) => vmErrors.push(`boot of ${String(inst.name)} failed: ${String(err)}`));
    });
    compute.onDelete((name) => {
      const vm = vms.get(name);
      if (!vm) return;
      // A preempted VM has ~30 s of grace before the power goes; its worker acts on the notice. A
      // VM deleted by kumo gets the ACPI soft-off: systemd stops the worker, which drains.
      if (vm.stoppedBy === undefined && preempted.has(name)) {
        const t = setTimeout(() => void vm.shutdown('powered off', true), 5000);
        timers.add(t);
        return;
      }
      void vm.shutdown('deleted', false);
    });

    gce = provider(compute, { workerSecrets });
    const controlBus = openBus(prefix, PROJECT);
    provisioner = new Provisioner({
      redisUrl,
      prefix,
      bus: controlBus,
      provider: gce,
      clock: wallClock,
      logger,
      reconcileIntervalMs: 500,
      graceMs: 1000,
    });
    // Every pass of the provisioner's own reconcile loop is kept, so the test can read what it reported.
    const reconcile = provisioner.reconcile.bind(provisioner);
    provisioner.reconcile = async () => {
      const r = await reconcile();
      reports.push(r);
      return r;
    };
    scheduler = new Scheduler({
      redisUrl,
      prefix,
      bus: openBus(prefix, PROJECT),
      clock: wallClock,
      logger,
      feedIntervalMs: 100,
      scaleIntervalMs: 300,
      leaderTtlMs: 3000,
      workerSettings: workerSettings(),
    });
    // On the control plane's bus, as the API's main makes it from KUMO_BUS: HTTPS workers' reports reach the ingester.
    app = await buildApp({ redisUrl, prefix, adminToken: TOKEN, logger, bus: openBus(prefix, PROJECT) });
    await provisioner.start();
    await scheduler.start();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    api = client(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, TOKEN);
  });

  afterAll(async () => {
    for (const t of timers) clearTimeout(t);
    const steps: [string, () => Promise<unknown>][] = [
      ['scheduler', () => scheduler?.stop()],
      ['provisioner', () => provisioner?.stop()],
      ['vms', () => Promise.allSettled([...vms.values()].map((vm) => vm.shutdown('test end', true)))],
      ['api', () => app?.close()],
      ['buses', () => Promise.allSettled(buses.map((b) => b.close()))],
      ['gce client', () => gce?.close()],
      [
        'redis keys',
        async () => {
          const redis = new Redis(redisUrl);
          const keys = await redis.keys(`${prefix}:*`);
          if (keys.length) await redis.del(...keys);
          await redis.quit();
        },
      ],
      ['fakes', () => Promise.allSettled([compute?.close(), pubsub?.close(), metadata?.close()])],
    ];
    // Every step runs even when one fails (or beforeAll never got as far as making its part).
    const failed: string[] = [];
    for (const [name, step] of steps)
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => failed.push(`${name}: ${String(err)}`));
    expect(failed).toEqual([]);
  });

  const job = async (id: string): Promise<any> => (await api.get(`/v1/jobs/${id}`)).body;

  /** Waits for the job to end, checking at every poll that its counts add up. */
  async function finished(id: string, timeoutMs = 30_000): Promise<any> {
    return waitFor(
      async () => {
        const j = await job(id);
        expect(addsUp(j.progress), JSON.stringify(j.progress)).toBe(true);
        return j.state === 'succeeded' || j.state === 'failed' || j.state === 'cancelled' ? j : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `job ${id} to end` },
    );
  }

  const poolInstances = (): Record<string, any>[] =>
    compute.instances().filter((i) => i.labels?.['kumo-pool'] === POOL);
  const insertsOf = (name: string) => compute.inserts.filter((i) => i.body.name === name);
  const resultLine = 'echo "::kumo::result {\\"attempt\\": $KUMO_TASK_ATTEMPT, \\"worker\\": \\"$KUMO_WORKER_ID\\"}"';

  let firstJob: string;
  let firstVms: string[] = [];

  it('a. the pool and a job bring up spot A100 VMs in the first zone, each insert a full A100 body with its requestId', async () => {
    const put = await api.put(`/v1/pools/${POOL}`, {
      machineType: 'a2-highgpu-1g',
      gpu: { type: 'nvidia-tesla-a100', count: 1 },
      spot: true,
      zones: ['us-central1-a', 'us-central1-b'],
      min: 0,
      max: 2,
      slotsPerVm: 4,
      idleTimeoutSeconds: 1,
      labels: { team: 'llm' },
    });
    expect(put.status).toBe(201);

    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'gce-e2e-preemption',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 40 },
      pool: POOL,
      run: { command: ['sh', '-c', `sleep 1; ${resultLine}`] },
    });
    expect(sub.status).toBe(201);
    firstJob = sub.body.id;

    // 40 tasks want 10 VMs of 4 slots; max caps them at 2, both up and leasing.
    await waitFor(
      async () => {
        expect(vmErrors).toEqual([]);
        return vms.size === 2 && [...vms.values()].every((v) => v.agent.state === 'running') ? true : undefined;
      },
      {
        timeoutMs: 15_000,
        what: 'two VMs with running workers',
      },
    );
    firstVms = [...vms.keys()];
    expect(poolInstances()).toHaveLength(2);
    for (const name of firstVms) {
      const sent = insertsOf(name);
      expect(sent.map((s) => s.zone)).toEqual(['us-central1-a']);
      const { body, requestId, project } = sent[0]!;
      expect(project).toBe(PROJECT);
      expect(requestId).toMatch(UUID);
      // The zone's requestId derives from the one the autoscaler recorded: a redelivered command repeats it.
      const record = await scheduler.fleet.get(name);
      expect(record?.requestId).toMatch(UUID);
      expect(requestId).toBe(zoneRequestId(record!.requestId!, 'us-central1-a'));
      expect(body.machineType).toBe('zones/us-central1-a/machineTypes/a2-highgpu-1g');
      expect(body.guestAccelerators).toEqual([
        { acceleratorType: 'zones/us-central1-a/acceleratorTypes/nvidia-tesla-a100', acceleratorCount: 1 },
      ]);
      expect(body.scheduling.provisioningModel).toBe('SPOT');
      expect(body.labels).toEqual({ team: 'llm', kumo: 'worker', 'kumo-pool': POOL });
      const md = metadataOf(body);
      expect(md['startup-script']).toBe(STARTUP_SCRIPT);
      expect(md['startup-script']).toContain('KUMO_ON_GCE=1');
      expect(md).toMatchObject({
        'kumo-pool': POOL,
        'kumo-slots': '4',
        'kumo-redis-url-secret': `projects/${PROJECT}/secrets/kumo-redis-url`,
      });
      // The Redis URL itself is nowhere in the instance: the VM reads it from Secret Manager at boot.
      expect(JSON.stringify(body)).not.toContain(redisUrl);
      // The VM boots as the insert's operation is DONE; the provisioner's fleet event follows on the bus.
      const running = await waitFor(
        async () => {
          const r = await scheduler.fleet.get(name);
          return r?.state === 'running' ? r : undefined;
        },
        { what: `${name}'s record to be running` },
      );
      expect(running.zone).toBe('us-central1-a');
    }
    expect(new Set(compute.inserts.map((i) => i.requestId)).size).toBe(compute.inserts.length);
    expect(compute.unknownRoutes).toEqual([]);
  });

  it('c. a preempted VM hands its tasks back; they finish elsewhere on attempt 1; reconcile reports it and the autoscaler replaces it', async () => {
    // Both VMs busy, some work done: the preemption lands mid-task.
    await waitFor(
      async () =>
        (await job(firstJob)).progress.succeeded >= 4 && firstVms.every((n) => vms.get(n)!.agent.busy > 0)
          ? true
          : undefined,
      {
        timeoutMs: 15_000,
        what: 'both VMs running tasks',
      },
    );
    const [victim, survivor] = firstVms as [string, string];
    preempted.add(victim);
    preempt(victim);

    const vm = vms.get(victim)!;
    await waitFor(async () => (vm.agent.state === 'stopped' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the preempted worker to stop',
    });
    expect(vm.stoppedBy).toBe('preemption notice');
    expect(vm.agent.stats.handedBack).toBeGreaterThan(0);
    expect(vm.agent.stats.failed).toBe(0);

    // The provisioner's own loop finds the instance reclaimed, reports it, deletes it, and the record follows.
    await waitFor(async () => (reports.some((r) => r.preempted.includes(victim)) ? true : undefined), {
      timeoutMs: 10_000,
      what: 'reconcile to report the preemption',
    });
    await waitFor(async () => ((await scheduler.fleet.get(victim))?.state === 'preempted' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the VM record to say preempted',
    });
    await waitFor(async () => (compute.instance(victim) === undefined ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the preempted instance to be deleted',
    });
    // The autoscaler asks for a replacement while the job still has work for two VMs.
    const replacement = await waitFor(
      async () => {
        const pool = (await api.get(`/v1/pools/${POOL}`)).body;
        const fresh = pool.vms.find(
          (v: { name: string; state: string }) => !firstVms.includes(v.name) && v.state === 'running',
        );
        return fresh?.name as string | undefined;
      },
      { timeoutMs: 15_000, what: 'a replacement VM' },
    );
    expect(insertsOf(replacement)).toHaveLength(1);
    expect(vms.get(survivor)!.stoppedBy).toBeUndefined();

    const done = await finished(firstJob);
    expect(done.state).toBe('succeeded');
    expect(done.progress).toMatchObject({ total: 40, succeeded: 40, failed: 0, queued: 0, running: 0 });
    const { results } = (await api.get(`/v1/jobs/${firstJob}/results`)).body as {
      results: { index: number; result: { attempt: number; worker: string } }[];
    };
    expect(results.map((r) => r.index)).toEqual([...Array(40).keys()]);
    // Preemption used no attempt: every task succeeded on its first.
    expect(results.filter((r) => r.result.attempt !== 1)).toEqual([]);
    // The tasks the victim handed back have results from other VMs: its own are only those it finished.
    expect(results.filter((r) => r.result.worker === victim)).toHaveLength(vm.agent.stats.succeeded);
    expect(results.filter((r) => r.result.worker !== victim).length).toBe(40 - vm.agent.stats.succeeded);
    expect((await api.get(`/v1/jobs/${firstJob}/tasks`)).body.tasks).toEqual([]);
    expect(vmErrors).toEqual([]);
  });

  it('b. with us-central1-a out of A100s, the VM lands in us-central1-b, and its record says so', async () => {
    // The idle VMs go first (idle timeout 1 s): scale-down deletes through the same client.
    await waitFor(async () => (poolInstances().length === 0 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the pool to scale to zero',
    });
    expect([...vms.values()].filter((v) => v.stoppedBy === 'deleted').length).toBeGreaterThanOrEqual(2);

    compute.stockout('us-central1-a');
    const before = new Set(vms.keys());
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'gce-e2e-stockout',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 4 },
      pool: POOL,
      run: { command: ['sh', '-c', resultLine] },
    });
    expect(sub.status).toBe(201);
    const name = await waitFor(async () => [...vms.keys()].find((n) => !before.has(n)), {
      timeoutMs: 15_000,
      what: 'a VM for the new job',
    });
    const sent = insertsOf(name);
    expect(sent.map((s) => s.zone)).toEqual(['us-central1-a', 'us-central1-b']);
    // One requestId per zone: reusing the first would make Compute Engine answer with its stockout again.
    const record = await scheduler.fleet.get(name);
    expect(sent.map((s) => s.requestId)).toEqual([
      zoneRequestId(record!.requestId!, 'us-central1-a'),
      zoneRequestId(record!.requestId!, 'us-central1-b'),
    ]);
    expect(compute.instance(name, 'us-central1-b')).toBeDefined();
    expect(compute.instance(name, 'us-central1-a')).toBeUndefined();
    const vm = await waitFor(
      async () =>
        (await api.get(`/v1/pools/${POOL}`)).body.vms.find(
          (v: { name: string; state: string }) => v.name === name && v.state === 'running',
        ),
      { what: 'the VM record to be running' },
    );
    expect(vm.zone).toBe('us-central1-b');
    const done = await finished(sub.body.id);
    expect(done.progress).toMatchObject({ total: 4, succeeded: 4, failed: 0 });
    compute.restock('us-central1-a');
  });

  it('e. duplicate and out-of-order Pub/Sub deliveries change no count', async () => {
    const duplicatedBefore = pubsub.stats.duplicated;
    const appliedBefore = scheduler.ingester.applied;
    pubsub.server.duplicateEvery = 2;
    pubsub.server.reorder = true;
    const total = 60;
    let done: any;
    let results: { index: number; result: { attempt: number } }[];
    try {
      const sub = await api.post('/v1/jobs', {
        kind: 'extraction',
        name: 'gce-e2e-duplicates',
        source: { snapshot: 'CC-MAIN-2023-50', batches: total },
        pool: POOL,
        run: { command: ['sh', '-c', resultLine] },
      });
      expect(sub.status).toBe(201);
      done = await finished(sub.body.id);
      // Late duplicates may still be arriving: the counts must not move.
      await new Promise((r) => setTimeout(r, 1000));
      const counts = (p: Record<string, number>) => ({
        total: p.total,
        queued: p.queued,
        running: p.running,
        succeeded: p.succeeded,
        failed: p.failed,
      });
      const later = await job(sub.body.id);
      expect(counts(later.progress)).toEqual(counts(done.progress));
      results = (await api.get(`/v1/jobs/${sub.body.id}/results`)).body.results;
    } finally {
      pubsub.server.duplicateEvery = undefined;
      pubsub.server.reorder = false;
    }
    expect(done.state).toBe('succeeded');
    expect(done.progress).toMatchObject({ total, succeeded: total, failed: 0, queued: 0, running: 0 });
    expect(results).toHaveLength(total);
    expect(results.every((r) => r.result.attempt === 1)).toBe(true);
    expect(pubsub.stats.duplicated).toBeGreaterThan(duplicatedBefore);
    // Each task reports at least its end (a start that rides in the same batch as its end is left out);
    // the duplicated deliveries reached the ingester too, and moved no count.
    expect(scheduler.ingester.applied - appliedBefore).toBeGreaterThan(total);
    expect(vmErrors).toEqual([]);
  });

  it('d. reconcile deletes a kumo instance that no record wants, and only that one', async () => {
    // One VM the pool wants (min 1), and one made behind kumo's back, as a crashed provisioner would leave it.
    // From an empty pool, so that the wanted VM is the only one and no scale-down can take it.
    await waitFor(async () => (poolInstances().length === 0 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the pool to scale to zero',
    });
    const put = await api.put(`/v1/pools/${POOL}`, {
      machineType: 'a2-highgpu-1g',
      gpu: { type: 'nvidia-tesla-a100', count: 1 },
      spot: true,
      zones: ['us-central1-a', 'us-central1-b'],
      min: 1,
      max: 2,
      slotsPerVm: 4,
      idleTimeoutSeconds: 1,
    });
    expect(put.status).toBe(200);
    const wanted = await waitFor(
      async () =>
        (await api.get(`/v1/pools/${POOL}`)).body.vms.find((v: { state: string }) => v.state === 'running')?.name as
          string | undefined,
      { timeoutMs: 15_000, what: 'the pool to keep one VM' },
    );
    const from = reports.length;
    const stray = provider(compute, { logger, workerSecrets });
    const orphan = `kumo-${POOL}-orphan-${randomBytes(3).toString('hex')}`;
    try {
      await stray.create(
        request('us-central1-b', { name: orphan, spec: a100Spec({ pool: POOL, worker: workerSettings() }) }),
      );
    } finally {
      await stray.close();
    }
    // It was made and booted (the provisioner's loop may delete it at any moment from here on).
    expect(insertsOf(orphan)).toHaveLength(1);
    expect(vms.has(orphan)).toBe(true);
    await waitFor(async () => (reports.slice(from).some((r) => r.orphans.includes(orphan)) ? true : undefined), {
      timeoutMs: 10_000,
      what: 'reconcile to find the orphan',
    });
    await waitFor(async () => (compute.instance(orphan) === undefined ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the orphan to be deleted',
    });
    expect(reports.slice(from).every((r) => !r.orphans.includes(wanted))).toBe(true);
    expect(compute.instance(wanted)).toBeDefined();
    // Its worker went with it (the ACPI soft-off of a delete), not by a preemption notice.
    await waitFor(async () => (vms.get(orphan)?.stoppedBy === 'deleted' ? true : undefined), {
      timeoutMs: 5_000,
      what: "the orphan's worker to stop",
    });
    expect(compute.unknownRoutes).toEqual([]);
    expect(compute.hookErrors).toEqual([]);
    expect(vmErrors).toEqual([]);
  });
});
