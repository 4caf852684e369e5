import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_POOL_DEFAULTS } from '@kumo/shared';
import {
  readLedger,
  reportLedgerFault,
  spawnService,
  submitLedgerJob,
  waitForEnd,
  type ServiceProcess,
} from '../support/faults';
import { client } from '../support/http';
import { testPrefix } from '../support/prefix';
import { taskWritableDir } from '../support/task-dirs';
import { freePort } from '../support/redis-server';
import { waitFor } from '../support/wait';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'failover-admin-token-0123456789';
const LEADER_TTL_MS = 3000;

/** The scheduler's lease holder id is `<host>-<pid>-<random>`. */
const pidOf = (holder: string): number => Number(/-(\d+)-[0-9a-f]+$/.exec(holder)?.[1]);

/**
 * Two APIs and two schedulers against one Redis, sharing nothing else (one provisioner runs the local
 * workers). What one API accepts the other serves, streams and cancels; when the leading scheduler
 * dies, the other takes the lease and the job finishes with every task run exactly once.
 */
describe('two APIs and two schedulers on one Redis', () => {
  const prefix = testPrefix('failover');
  const redisUrl = inject('redisUrl');
  // The ledger job's tasks (its uid, not root) append to the ledger here.
  const dir = taskWritableDir('kumo-failover-');
  const common = { REDIS_URL: redisUrl, KUMO_PREFIX: prefix };
  const procs: ServiceProcess[] = [];
  let a: ReturnType<typeof client>;
  let b: ReturnType<typeof client>;
  let bUrl: string;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    const [pa, pb] = [await freePort(), await freePort()];
    procs.push(await spawnService('api', { ...common, PORT: String(pa), KUMO_ADMIN_TOKEN: TOKEN }));
    procs.push(await spawnService('api', { ...common, PORT: String(pb), KUMO_ADMIN_TOKEN: TOKEN }));
    a = client(`http://127.0.0.1:${pa}`, TOKEN);
    bUrl = `http://127.0.0.1:${pb}`;
    b = client(bUrl, TOKEN);
    expect(
      (await a.put('/v1/pools/local', { ...LOCAL_POOL_DEFAULTS, max: 2, slotsPerVm: 8, idleTimeoutSeconds: 30 }))
        .status,
    ).toBe(201);
    for (let i = 0; i < 2; i++)
      procs.push(
        await spawnService('scheduler', {
          ...common,
          KUMO_LEADER_TTL_MS: String(LEADER_TTL_MS),
          KUMO_SCALE_INTERVAL_MS: '500',
        }),
      );
    procs.push(
      await spawnService('provisioner', {
        ...common,
        KUMO_PROVIDER: 'local',
        KUMO_RECONCILE_INTERVAL_MS: '1000',
        KUMO_TASK_LOCK_MS: '3000',
        KUMO_DRAIN_MS: '500',
      }),
    );
  }, FAULT_TIMEOUT_MS);
  afterAll(async () => {
    for (const p of procs.reverse()) if (p.proc.exitCode === null && p.proc.signalCode === null) await p.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'a job submitted on one API is seen, streamed and cancelled on the other',
    async () => {
      const sub = await a.post('/v1/jobs', {
        kind: 'extraction',
        name: 'across',
        source: { snapshot: 'CC-MAIN-2023-50', batches: 100_000 },
        pool: 'local',
        run: { builtin: 'sleep', ms: 50 },
      });
      expect(sub.status).toBe(201);
      expect((await b.get(`/v1/jobs/${sub.body.id}`)).body).toMatchObject({ id: sub.body.id, name: 'across' });
      // Progress reaches B's event stream: it is driven by Redis, not by the API that took the job.
      const res = await fetch(`${bUrl}/v1/jobs/${sub.body.id}/events`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = '';
      const succeeded = (): number[] =>
        [...text.matchAll(/event: progress\ndata: (\{.*\})/g)].map(
          (m) => (JSON.parse(m[1]!) as { succeeded: number }).succeeded,
        );
      while (!(succeeded().length >= 3 && succeeded().at(-1)! > 0)) {
        const { value, done } = await reader.read();
        expect(done).toBe(false);
        text += new TextDecoder().decode(value);
      }
      const seen = succeeded();
      expect(seen.at(-1)!).toBeGreaterThan(seen[0]!);
      const cancelled = await b.post(`/v1/jobs/${sub.body.id}/cancel`);
      expect(cancelled.status).toBe(200);
      while (!text.includes('event: end')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain('"state":"cancelled"');
      expect((await a.get(`/v1/jobs/${sub.body.id}`)).body.state).toBe('cancelled');
      // Cancelled on B, refused as finished on A.
      expect((await a.post(`/v1/jobs/${sub.body.id}/cancel`)).status).toBe(409);
    },
    FAULT_TIMEOUT_MS,
  );

  it(
    'kill -9 of the leading scheduler mid-job: the other takes over, every task runs once',
    async () => {
      const TOTAL = 200;
      const ledger = join(dir, 'ledger');
      const id = await submitLedgerJob(a, {
        name: 'failover',
        total: TOTAL,
        ledger,
        then: 'echo "::kumo::result {\\"index\\": $KUMO_TASK_INDEX}"; sleep 0.2',
      });
      await waitFor(async () => (await a.get(`/v1/jobs/${id}`)).body.progress.succeeded >= TOTAL * 0.25 || undefined, {
        timeoutMs: 45_000,
        what: '25 % done',
      });
      const key = `${prefix}:leader:scheduler`;
      const holder = (await redis.get(key))!;
      const leader = procs.find((p) => p.name === 'scheduler' && p.proc.pid === pidOf(holder));
      expect(leader, `no scheduler process has pid ${pidOf(holder)} (holder ${holder})`).toBeDefined();
      const killedAt = Date.now();
      await leader!.kill9();
      const next = await waitFor(
        async () => {
          const h = await redis.get(key);
          return h && h !== holder ? h : undefined;
        },
        { timeoutMs: LEADER_TTL_MS * 4, intervalMs: 20, what: 'another scheduler to lead' },
      );
      const takeoverMs = Date.now() - killedAt;
      const other = procs.find((p) => p.name === 'scheduler' && p !== leader)!;
      expect(pidOf(next)).toBe(other.proc.pid);

      const job = await waitForEnd(a, id, 90_000);
      const runs = readLedger(ledger);
      const results = (await b.get(`/v1/jobs/${id}/results`)).body.results as {
        index: number;
        result: { index: number };
      }[];
      reportLedgerFault('scheduler-failover', job, runs, TOTAL, {
        takeoverMs,
        ledgerRuns: runs.length,
        results: results.length,
      });
      // No task fed twice: every index is in the ledger (checked above), and it holds no more runs than tasks.
      expect(runs).toHaveLength(TOTAL);
      expect(results.map((r) => r.result.index).sort((x, y) => x - y)).toEqual(
        Array.from({ length: TOTAL }, (_, i) => i),
      );
      // Within the lease's ttl and a renewal tick of the survivor (ttl/3), with room for a loaded machine.
      expect(takeoverMs).toBeLessThan(LEADER_TTL_MS * 2);
    },
    FAULT_TIMEOUT_MS,
  );
});
