import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_POOL_DEFAULTS } from '@kumo/shared';
import { startFakePubSub, type FakePubSub } from '../fakes/pubsub-server';
import { processExited, workerPids } from '../support/control-plane-process';
import {
  readLedger,
  reportLedgerFault,
  spawnService,
  submitLedgerJob,
  waitForEnd,
  type ServiceProcess,
} from '../support/faults';
import { client } from '../support/http';
import { deleteKeys, testPrefix } from '../support/prefix';
import { freePort } from '../support/redis-server';
import { taskWritableDir } from '../support/task-dirs';
import { waitFor } from '../support/wait';

/** Usually about a minute; the ceiling is for a loaded two-core machine, where each process start takes seconds. */
const FAULT_TIMEOUT_MS = 170_000;

const PROJECT = 'kumo-test';
const TOKEN = 'gcp-shape-admin-token-0123456789';
const TOTAL = 300;
/** The last tasks wait for a gate the test opens once every kill is done, so each kill lands mid-job. */
const GATED_FROM = 296;

/**
 * The bus as infra/pubsub.tf makes it on Google Cloud: the three topics, each with its one
 * subscription, made before any service starts (the services then find them and change nothing).
 * The retry backoff is shortened from Terraform's 5 s, as tests do, so a message a killed service held
 * comes back within its ack deadline and a second.
 */
async function createBusAsTerraformDoes(pubsub: PubSub, prefix: string): Promise<void> {
  const bus = { provision: 'provisioner', fleet: 'scheduler', progress: 'ingester' };
  for (const [topic, subscriber] of Object.entries(bus)) {
    const [t] = await pubsub.createTopic(`${prefix}-${topic}`);
    await t.createSubscription(`${prefix}-${topic}-${subscriber}`, {
      ackDeadlineSeconds: 60,
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 5 } },
    });
  }
}

/** Each run the ledger holds: the task's index and the worker that ran it. */
function ledgerRuns(ledger: string): { index: number; worker: string }[] {
  let text: string;
  try {
    text = readFileSync(ledger, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [index, , worker] = l.split(' ');
      return { index: Number(index), worker: worker ?? '' };
    });
}

/**
 * The Google Cloud shape of docs/google-cloud.md: the API, the scheduler and the provisioner each a process of its
 * own on the Pub/Sub bus (the local gRPC server that speaks its protocol), the fleet's workers under the
 * provisioner (Redis-side) and two contributors' workers over HTTPS, all on one pool. Each service is
 * killed (-9) once mid-job and started again, and one contributor is killed for good.
 */
describe('the Google Cloud shape: services apart on Pub/Sub, Redis-side and HTTPS workers on one pool', () => {
  const prefix = testPrefix('gcp');
  // Tasks run as an unprivileged identity of their own: they must be able to write their ledger here.
  const dir = taskWritableDir('kumo-gcp-shape-');
  const ledger = join(dir, 'ledger');
  const gate = join(dir, 'gate');
  let fake: FakePubSub;
  let admin: PubSub;
  let port: number;
  let http: ReturnType<typeof client>;
  let common: Record<string, string>;
  const services: Partial<Record<'api' | 'scheduler' | 'provisioner', ServiceProcess>> = {};
  const contributors: ServiceProcess[] = [];

  const env = (name: 'api' | 'scheduler' | 'provisioner'): Record<string, string> =>
    ({
      api: { ...common, PORT: String(port), KUMO_ADMIN_TOKEN: TOKEN, KUMO_LEASE_SECONDS: '10' },
      scheduler: { ...common, KUMO_LEADER_TTL_MS: '3000', KUMO_SCALE_INTERVAL_MS: '500' },
      // The fleet's workers inherit the provisioner's environment: short locks and drains.
      provisioner: {
        ...common,
        KUMO_PROVIDER: 'local',
        KUMO_RECONCILE_INTERVAL_MS: '1000',
        KUMO_TASK_LOCK_MS: '5000',
        KUMO_DRAIN_MS: '500',
      },
    })[name];
  const start = async (name: 'api' | 'scheduler' | 'provisioner'): Promise<ServiceProcess> =>
    (services[name] = await spawnService(name, env(name)));
  /** The provisioner's two workers, once both say they are taking tasks (they log to its output). */
  const fleetUp = (): Promise<number[]> =>
    waitFor(
      async () => {
        const p = services.provisioner!;
        const pids = workerPids(p.proc.pid!);
        return pids.length === 2 && p.output().split('"msg":"worker started"').length - 1 >= 2 ? pids : undefined;
      },
      { timeoutMs: 60_000, what: 'the fleet of two workers up' },
    );

  beforeAll(async () => {
    fake = await startFakePubSub();
    admin = new PubSub({
      projectId: PROJECT,
      apiEndpoint: fake.host,
      emulatorMode: true,
      universeDomain: 'googleapis.com',
    });
    await createBusAsTerraformDoes(admin, prefix);
    port = await freePort();
    common = {
      REDIS_URL: inject('redisUrl'),
      KUMO_PREFIX: prefix,
      KUMO_BUS: 'pubsub',
      GOOGLE_CLOUD_PROJECT: PROJECT,
      PUBSUB_EMULATOR_HOST: fake.host,
    };
    http = client(`http://127.0.0.1:${port}`, TOKEN);
    /** The API, then what only it can make: the pool and the contributors' tokens; then the contributors. */
    const apiAndContributors = async (): Promise<void> => {
      await start('api');
      // A fleet of two from the start (min 2), so that the job finds every kind of worker there.
      const pool = await http.put('/v1/pools/local', {
        ...LOCAL_POOL_DEFAULTS,
        min: 2,
        max: 2,
        slotsPerVm: 4,
        idleTimeoutSeconds: 30,
      });
      expect(pool.status).toBe(201);
      const started = ['contrib-a', 'contrib-b'].map(async (name) => {
        const t = await http.post('/v1/tokens', { role: 'worker', name, pool: 'local' });
        expect(t.status).toBe(201);
        // A contributor's machine: the worker with a worker token and the API's address, nothing else of kumo's.
        return spawnService('worker', {
          KUMO_WORKER_TOKEN: t.body.token,
          KUMO_CONTROL_URL: `http://127.0.0.1:${port}`,
          KUMO_POOL: 'local',
          KUMO_WORKER_NAME: name,
          KUMO_SLOTS: '2',
          KUMO_DRAIN_MS: '500',
        });
      });
      contributors.push(...(await Promise.all(started)));
    };
    // Side by side, as on their own machines: on a loaded one each process start costs seconds.
    await Promise.all([apiAndContributors(), start('scheduler'), start('provisioner').then(fleetUp)]);
  }, FAULT_TIMEOUT_MS);

  afterAll(async () => {
    const alive = (s: ServiceProcess | undefined): s is ServiceProcess =>
      s !== undefined && s.proc.exitCode === null && s.proc.signalCode === null;
    for (const c of contributors) if (alive(c)) await c.stop();
    for (const s of [services.provisioner, services.scheduler, services.api]) if (alive(s)) await s.stop();
    await admin?.close();
    await fake?.close();
    await deleteKeys(prefix);
    rmSync(dir, { recursive: true, force: true });
  }, FAULT_TIMEOUT_MS);

  it(
    `a ${TOTAL}-task job succeeds with every task counted once, through a kill -9 of each service and of a contributor`,
    async () => {
      const id = await submitLedgerJob(http, {
        name: 'google-cloud-shape',
        total: TOTAL,
        ledger,
        then: `[ "$KUMO_TASK_INDEX" -lt ${GATED_FROM} ] || while [ ! -e '${gate}' ]; do sleep 0.1; done; sleep 0.2; echo '::kumo::result {"ok": true}'`,
      });
      const job = async (): Promise<{ state: string; progress: { succeeded: number } }> =>
        (await http.get(`/v1/jobs/${id}`)).body;
      /** Waits until `n` tasks are counted; then checks the job is still going (the gate holds its last tasks). */
      const atLeast = async (n: number): Promise<number> => {
        const j = await waitFor(
          async () => {
            const x = await job();
            return x.progress.succeeded >= n ? x : undefined;
          },
          { timeoutMs: 60_000, what: `${n} tasks counted` },
        );
        expect(j.state).toBe('running');
        return j.progress.succeeded;
      };

      // Every kind of worker has had tasks counted before anything is killed. A task counts once its
      // outcome reaches the scheduler's ingester on the bus; the ledger says who ran what, counted or not.
      const countedFrom = async (): Promise<Set<string>> =>
        new Set(
          ((await http.get(`/v1/jobs/${id}/results?limit=1000`)).body.results as { result: { worker: string } }[]).map(
            (r) => r.result.worker,
          ),
        );
      let counted = new Set<string>();
      await waitFor(
        async () => {
          counted = await countedFrom();
          return (
            counted.has('contrib-a') &&
            counted.has('contrib-b') &&
            [...counted].some((w) => w.startsWith('kumo-local-'))
          );
        },
        { timeoutMs: 60_000, what: "tasks counted from the fleet's workers and from both contributors" },
      ).catch((err: unknown) => {
        const ran = new Set(ledgerRuns(ledger).map((r) => r.worker));
        throw new Error(
          `${String(err)}; counted from: ${[...counted].join(', ') || 'none'}; ran on: ${[...ran].join(', ') || 'none'}`,
        );
      });
      const at: Record<string, number> = {};
      const t0 = Date.now();
      /** Seconds since the job's tasks were all counting, at each step: where the time goes, for the notes. */
      const took: Record<string, number> = {};
      const mark = (step: string): void => void (took[step] = Math.round((Date.now() - t0) / 1000));

      at.scheduler = await atLeast(TOTAL * 0.1);
      await services.scheduler!.kill9();
      await start('scheduler');
      mark('schedulerBackS');

      // The provisioner, once its fleet is up (no create in flight); its workers leave with it.
      at.provisioner = await atLeast(TOTAL * 0.25);
      const fleet = await fleetUp();
      await services.provisioner!.kill9();
      // Its successor starts while the orphans hand back and leave, as a restarted one would on GCP.
      await Promise.all([
        waitFor(async () => fleet.every(processExited) || undefined, {
          timeoutMs: 30_000,
          what: 'orphaned workers to exit',
        }),
        start('provisioner'),
      ]);
      mark('provisionerBackS');

      at.api = await atLeast(TOTAL * 0.4);
      await services.api!.kill9();
      await start('api');
      mark('apiBackS');

      at.contributor = await atLeast(TOTAL * 0.55);
      await contributors[0]!.kill9();

      writeFileSync(gate, '');
      mark('gateOpenS');
      const ended = await waitForEnd(http, id, 90_000);
      mark('endedS');
      const runs = ledgerRuns(ledger);
      const byWorker = new Map<string, number>();
      for (const r of runs) byWorker.set(r.worker, (byWorker.get(r.worker) ?? 0) + 1);
      reportLedgerFault('google-cloud-shape', ended, readLedger(ledger), TOTAL, {
        ...Object.fromEntries(Object.entries(at).map(([k, v]) => [`${k}KilledAt`, v])),
        ...took,
        runs: runs.length,
        workers: JSON.stringify(Object.fromEntries(byWorker)),
      });
      // Counted once each: one result per task, whoever ran it and however often.
      const results = (await http.get(`/v1/jobs/${id}/results?limit=1000`)).body.results as { index: number }[];
      expect(results.map((r) => r.index)).toEqual([...Array(TOTAL).keys()]);
    },
    FAULT_TIMEOUT_MS,
  );
});
