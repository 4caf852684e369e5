import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnControlPlane, workerPids, stopProcess } from '../support/control-plane-process';
import { client } from '../support/http';
import { testPrefix, deleteKeys } from '../support/prefix';
import { freePort } from '../support/redis-server';
import { waitFor } from '../support/wait';

/** Usually about ten seconds; the ceiling is for a loaded two-core machine, where process start-up alone takes seconds. */
const TIMEOUT_MS = 150_000;

const ADMIN = `secret-admin-${Date.now().toString(36)}-0123456789abcdef`;

/**
 * The whole control plane as a process (API, scheduler, provisioner, and the worker processes, whose
 * output goes to the same pipes) at LOG_LEVEL=debug, driven through a full flow with every kind of
 * token, right and wrong, in every place a client might put one. Afterwards no token may appear
 * anywhere in what any of them printed.
 */
describe('secrets never reach the logs', () => {
  const prefix = testPrefix('secrets');
  let port: number;
  let cp: Awaited<ReturnType<typeof spawnControlPlane>>;

  beforeAll(async () => {
    port = await freePort();
    cp = await spawnControlPlane({
      REDIS_URL: inject('redisUrl'),
      PORT: String(port),
      KUMO_ADMIN_TOKEN: ADMIN,
      KUMO_PREFIX: prefix,
      KUMO_LOCAL_WORKERS: '1',
      KUMO_LOCAL_SLOTS: '4',
      KUMO_TASK_LOCK_MS: '3000',
      KUMO_DRAIN_MS: '500',
      LOG_LEVEL: 'debug',
    });
  });
  afterAll(async () => {
    if (cp.proc.exitCode === null) {
      await stopProcess(cp.proc);
    }
    await deleteKeys(prefix);
  });

  it(
    'a full flow with right and wrong tokens leaves none of them in any output',
    async () => {
      const base = `http://127.0.0.1:${port}`;
      const admin = client(base, ADMIN);
      const used: string[] = [ADMIN];
      const mint = async (body: Record<string, unknown>): Promise<{ id: string; token: string }> => {
        const res = await admin.post('/v1/tokens', body);
        expect(res.status).toBe(201);
        used.push(res.body.token);
        return res.body;
      };
      const submitter = await mint({ role: 'submitter', name: 'alice' });
      const viewer = await mint({ role: 'viewer', name: 'bob' });
      const worker = await mint({ role: 'worker', name: 'vm', pool: 'local' });
      const revoked = await mint({ role: 'submitter', name: 'carol' });

      const alice = client(base, submitter.token);
      // A job whose tasks print their whole environment: the worker's secrets must not be in it.
      const sub = await alice.post('/v1/jobs', {
        kind: 'extraction',
        name: 'secrets',
        source: { snapshot: 'CC-MAIN-2023-50', batches: 3 },
        pool: 'local',
        retry: { maxAttempts: 1 },
        failurePolicy: { maxFailedTasks: 3 },
        run: { command: ['sh', '-c', 'env; echo "::kumo::result {\\"ok\\": 1}"; exit 1'] },
      });
      expect(sub.status).toBe(201);
      const done = await waitFor(
        async () => {
          const j = (await alice.get(`/v1/jobs/${sub.body.id}`)).body;
          return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
        },
        { timeoutMs: 45_000, what: 'the env-printing job to end' },
      );
      expect(done.progress.failed).toBe(3);
      const tails = (await alice.get(`/v1/jobs/${sub.body.id}/tasks`)).body.tasks as { logTail: string }[];
      expect(tails.length).toBe(3);
      expect(tails[0]!.logTail).toContain('KUMO_TASK_INDEX=');
      for (const t of tails)
        for (const s of used) expect(t.logTail.includes(s), 'a task saw a token in its environment').toBe(false);

      // The rest of the flow: list, get, cancel, watch, as the right roles.
      const second = await alice.post('/v1/jobs', {
        kind: 'extraction',
        name: 'to-cancel',
        source: { snapshot: 'CC-MAIN-2023-50', batches: 100_000 },
        pool: 'local',
        run: { builtin: 'sleep', ms: 1000 },
      });
      expect(second.status).toBe(201);
      expect((await alice.get('/v1/jobs?limit=5')).status).toBe(200);
      expect((await client(base, viewer.token).get(`/v1/jobs/${second.body.id}`)).status).toBe(200);
      const sse = await fetch(`${base}/v1/jobs/${second.body.id}/events`, {
        headers: { authorization: `Bearer ${viewer.token}` },
      });
      expect(sse.status).toBe(200);
      const reader = sse.body!.getReader();
      await reader.read();
      expect((await alice.post(`/v1/jobs/${second.body.id}/cancel`)).status).toBe(200);
      await reader.cancel();
      // The HTTPS worker protocol with a worker token (a pool it may not use: 403).
      const lease = await client(base, worker.token).post('/v1/workers/lease', {
        workerId: 'w1',
        pool: 'elsewhere',
        max: 1,
      });
      expect([403, 404]).toContain(lease.status);

      // Wrong tokens, every way round.
      const wrong = [`kumo_${'x'.repeat(32)}`, `${ADMIN}x`, submitter.token.slice(0, -1)];
      used.push(...wrong);
      for (const w of wrong) expect((await client(base, w).get('/v1/jobs')).status).toBe(401);
      const raw = (headers: Record<string, string>, path = '/v1/jobs'): Promise<Response> =>
        fetch(`${base}${path}`, { headers });
      expect((await raw({ authorization: ADMIN })).status).toBe(401); // no "Bearer"
      expect((await raw({ authorization: `Bearer ${ADMIN} ${submitter.token}` })).status).toBe(401);
      expect((await raw({ authorization: `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}` })).status).toBe(
        401,
      );
      used.push(Buffer.from(`admin:${ADMIN}`).toString('base64'));
      // A revoked token (after the 2 s lookup cache).
      expect((await admin.delete(`/v1/tokens/${revoked.id}`)).status).toBe(204);
      await waitFor(async () => (await client(base, revoked.token).get('/v1/jobs')).status === 401, {
        timeoutMs: 5000,
        what: 'revocation',
      });
      // The queue board takes the admin token from the query string once, and from a cookie after.
      const board = await fetch(`${base}/admin/queues?token=${encodeURIComponent(ADMIN)}`, { redirect: 'manual' });
      expect(board.status).toBe(303);
      expect((await raw({ cookie: `kumo_admin=${encodeURIComponent(ADMIN)}` }, '/admin/queues')).status).toBe(200);
      expect(
        (await fetch(`${base}/admin/queues?token=${encodeURIComponent(viewer.token)}`, { redirect: 'manual' })).status,
      ).toBe(403);
      expect((await fetch(`${base}/admin/queues?token=${wrong[0]}`, { redirect: 'manual' })).status).toBe(401);
      // A token where no token belongs: a path, and an unknown route's query string.
      expect((await raw({ authorization: `Bearer ${ADMIN}` }, `/v1/jobs/${submitter.token}`)).status).toBe(404);
      expect((await raw({}, `/nowhere?token=${submitter.token}`)).status).toBe(404);

      // The worker processes must not hold the admin token either (they never need it).
      const pids = workerPids(cp.proc.pid!);
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) {
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
        expect(environ.includes('KUMO_PREFIX='), 'read the worker environment').toBe(true);
        expect(environ.includes(ADMIN), `worker ${pid} has the admin token in its environment`).toBe(false);
      }

      // Stop everything, so every process has flushed what it had to say.
      const exited = new Promise<number | null>((r) => cp.proc.once('exit', r));
      cp.proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      const out = cp.output();
      // The logs did see all of it: debug lines from the API, the scheduler and a worker, and the refusals.
      expect(out).toContain('"msg":"token created"');
      expect(out).toContain('"msg":"request rejected"');
      expect(out).toContain('"msg":"job submitted"');
      expect(out).toContain('"component":"worker"');
      expect(out.length).toBeGreaterThan(5000);
      const leaked = used.filter((t) => out.includes(t));
      console.log(
        `secrets: ${used.length} tokens used, ${out.split('\n').length} log lines searched, ${leaked.length} found`,
      );
      expect(leaked.map((t) => `${t.slice(0, 8)}…`)).toEqual([]);
      // Nor in pieces that a logger might have escaped (JSON string escaping of the same bytes).
      for (const t of used) expect(out.includes(JSON.stringify(t).slice(1, -1))).toBe(false);
    },
    TIMEOUT_MS,
  );
});
