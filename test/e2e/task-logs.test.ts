import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '@kumo/local';
import { HttpWorkerAgent } from '@kumo/worker';
import { createLogger, wallClock } from '@kumo/shared';
import { startTestControlPlane, WORKERLESS_POOL } from '../support/control-plane';
import { client } from '../support/http';
import { taskHost } from '../support/task-host';
import { taskReadableDir } from '../support/task-dirs';
import { waitFor } from '../support/wait';

const logger = createLogger({ name: 'task-logs', level: process.env.LOG_LEVEL ?? 'warn' });

/** 104 lines of 1,010 bytes, 50 times, 0.2 s apart: 5,252,000 bytes on stdout over 10 s, and 5 lines on stderr. */
const FIVE_MIB_OVER_10_S = `
import sys, time
pad = 'x' * 1000
for i in range(50):
    sys.stdout.write(''.join('%03d-%04d %s\\n' % (i, j, pad) for j in range(104)))
    sys.stdout.flush()
    if i % 10 == 0:
        sys.stderr.write('stderr %d\\n' % i)
        sys.stderr.flush()
    time.sleep(0.2)
`;
const expectedStdout = Array.from({ length: 50 }, (_, i) =>
  Array.from(
    { length: 104 },
    (_, j) => `${String(i).padStart(3, '0')}-${String(j).padStart(4, '0')} ${'x'.repeat(1000)}`,
  ),
).flat();

describe('task logs: kept whole in the artifact store, served and followed by the API', () => {
  let cp: ControlPlane;
  let api: ReturnType<typeof client>;
  let token: string;
  let prefix: string;
  let stop: () => Promise<void>;
  const artifacts = join(taskReadableDir('kumo-task-logs-'), 'artifacts');
  let contrib: HttpWorkerAgent | undefined;

  beforeAll(async () => {
    ({ cp, api, token, prefix, stop } = await startTestControlPlane('task-logs', {
      logger,
      localPool: { max: 1, slotsPerVm: 4, idleTimeoutSeconds: 60 },
      workerEnv: { LOG_LEVEL: 'warn', KUMO_ARTIFACTS_DIR: artifacts },
    }));
  });
  afterAll(async () => {
    await contrib?.stop({ handBackNow: true });
    await stop();
  });

  const logOf = (id: string, index: number, query = ''): Promise<Response> =>
    fetch(`${cp.url}/v1/jobs/${id}/tasks/${index}/log${query}`, { headers: { authorization: `Bearer ${token}` } });
  const submit = async (name: string, command: string[], extra: Record<string, unknown> = {}): Promise<string> => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name,
      source: { snapshot: 'S', batches: 1 },
      run: { command },
      ...extra,
    });
    expect(sub.status).toBe(201);
    return sub.body.id as string;
  };
  const ended = (id: string) =>
    waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${id}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
      },
      { timeoutMs: 50_000, what: `job ${id} to end` },
    );

  it('a task printing 5 MiB over 10 s is followed live (its first bytes while it runs), then read whole', async () => {
    const id = await submit('five-mib', ['python3', '-c', FIVE_MIB_OVER_10_S]);
    // Followed from the submit on: the task has not started yet, and the follower waits for it.
    const res = await logOf(id, 0, '?follow=true');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    let stateAtFirstBytes: string | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.length && stateAtFirstBytes === undefined)
        stateAtFirstBytes = (await api.get(`/v1/jobs/${id}`)).body.state as string;
      chunks.push(value);
    }
    expect(stateAtFirstBytes).toBe('running');
    const followed = Buffer.concat(chunks).toString();
    const job = await ended(id);
    expect(job.state).toBe('succeeded');

    const whole = await logOf(id, 0);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('x-kumo-attempt')).toBe('1');
    const text = await whole.text();
    expect(text.length).toBe(5_252_000 + 'stderr 0\n'.length + 4 * 'stderr 10\n'.length);
    const lines = text.split('\n').filter(Boolean);
    expect(lines.filter((l) => !l.startsWith('stderr ')).join('\n')).toBe(expectedStdout.join('\n'));
    expect(lines.filter((l) => l.startsWith('stderr '))).toEqual([
      'stderr 0',
      'stderr 10',
      'stderr 20',
      'stderr 30',
      'stderr 40',
    ]);
    // The follower got exactly what is kept.
    expect(followed).toBe(text);
  });

  it("a succeeded task's log is kept too (stdout and stderr); a task that prints nothing costs no write", async () => {
    const id = await submit('small', ['sh', '-c', 'echo hello; echo oops >&2; echo \'::kumo::result {"n": 1}\'']);
    expect((await ended(id)).state).toBe('succeeded');
    const text = await (await logOf(id, 0)).text();
    expect(text.split('\n').sort()).toEqual(['', '::kumo::result {"n": 1}', 'hello', 'oops']);

    const quiet = await submit('quiet', ['true']);
    expect((await ended(quiet)).state).toBe('succeeded');
    expect(existsSync(join(artifacts, 'jobs', quiet))).toBe(false);
    const empty = await logOf(quiet, 0);
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe('');
  });

  it('a task that never ran, or an attempt that never ran: 404 TASK_NOT_RUN', async () => {
    // A canary that fails: the second task is never fed.
    const id = await submit('canary-fails', ['sh', '-c', 'echo failing; exit 3'], {
      source: { snapshot: 'S', batches: 2 },
      canary: { tasks: 1 },
      retry: { maxAttempts: 1 },
    });
    expect((await ended(id)).state).toBe('failed');
    expect(await (await logOf(id, 0)).text()).toBe('failing\n');
    for (const [index, query] of [
      [1, ''],
      [1, '?follow=true'],
      [0, '?attempt=2'],
    ] as const) {
      const res = await logOf(id, index, query);
      expect(res.status, `${index}${query}`).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TASK_NOT_RUN');
    }
    expect((await logOf('job_nope', 0)).status).toBe(404);
  });

  it("an HTTPS worker's log goes through the API, capped: the tail kept, a marker where the head was cut", async () => {
    await api.put('/v1/pools/contrib', WORKERLESS_POOL);
    const t = await api.post('/v1/tokens', { role: 'worker', name: 'laptop', pool: 'contrib' });
    expect(t.status).toBe(201);
    contrib = new HttpWorkerAgent({
      controlUrl: cp.url,
      token: t.body.token as string,
      pool: 'contrib',
      id: 'laptop',
      slots: 1,
      drainMs: 1000,
      ...taskHost(),
      logMaxBytes: 64 * 1024,
      clock: wallClock,
      logger,
      idlePollMs: 200,
    });
    await contrib.start();
    // 3,000 lines of 100 bytes: 300,000 bytes, far past the 64 KiB cap.
    const id = await submit(
      'capped',
      ['python3', '-c', "import sys\nfor i in range(3000): sys.stdout.write('%05d %s\\n' % (i, 'y' * 93))"],
      { pool: 'contrib' },
    );
    expect((await ended(id)).state).toBe('succeeded');
    const text = await (await logOf(id, 0)).text();
    const marker = /^\[kumo: (\d+) bytes of this log were cut here; a task's log keeps only its tail\]\n/.exec(text);
    expect(marker).not.toBeNull();
    const tail = text.slice(marker![0].length);
    expect(Number(marker![1]) + tail.length).toBe(300_000);
    expect(tail.length).toBeLessThanOrEqual(64 * 1024);
    expect(tail.length).toBeGreaterThan(48 * 1024);
    expect(tail.endsWith(`02999 ${'y'.repeat(93)}\n`)).toBe(true);
  });
  it('a job deleted takes its logs, record and ledger with it; a live job cannot be; /metrics still counts it', async () => {
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const submitKeyed = async (key: string) => {
      const res = await fetch(`${cp.url}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({
          kind: 'extraction',
          name: 'to-delete',
          source: { snapshot: 'S', batches: 2 },
          run: { command: ['sh', '-c', 'echo "task $KUMO_TASK_INDEX"; echo \'::kumo::result {"n": 1}\''] },
        }),
      });
      return { status: res.status, id: ((await res.json()) as { id: string }).id };
    };
    const first = await submitKeyed('delete-me');
    expect(first.status).toBe(201);
    expect((await ended(first.id)).state).toBe('succeeded');
    expect(await (await logOf(first.id, 1)).text()).toMatch(/^task 1\n/);
    expect(existsSync(join(artifacts, 'jobs', first.id))).toBe(true);
    const jobsSucceeded = 'kumo_jobs{pool="local",state="succeeded"}';
    const tasksSucceeded = 'kumo_tasks_finished_total{pool="local",outcome="succeeded"}';
    const before = [await metric(jobsSucceeded), await metric(tasksSucceeded)];
    expect(before[0]).toBeGreaterThanOrEqual(1);

    // A live job: 409 until it has ended, and a cancelled one once its task has stopped.
    const live = await submit('live', ['sleep', '60']);
    await waitFor(async () => ((await api.get(`/v1/jobs/${live}`)).body.progress.running === 1 ? true : undefined), {
      what: 'the live job to run',
    });
    const refused = await api.delete(`/v1/jobs/${live}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('JOB_NOT_ENDED');
    expect((await api.post(`/v1/jobs/${live}/cancel`, {})).status).toBe(200);
    await waitFor(
      async () => {
        const res = await api.delete(`/v1/jobs/${live}`);
        if (res.status === 409) expect(res.body.error).toMatchObject({ code: 'JOB_STOPPING', retryable: true });
        return res.status === 204 ? true : undefined;
      },
      { what: 'the cancelled job to be deletable' },
    );

    // A job still waiting on it (its other dependency runs on): 409 while it waits, since deleted it would fail it.
    const blocker = await submit('blocker', ['sleep', '60']);
    const waiter = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'waiter',
      source: { snapshot: 'S', batches: 1 },
      dependsOn: [first.id, blocker],
      run: { builtin: 'noop' },
    });
    expect(waiter.status).toBe(201);
    const held = await api.delete(`/v1/jobs/${first.id}`);
    expect(held.status).toBe(409);
    expect(held.body.error).toMatchObject({ code: 'JOB_HAS_DEPENDENTS', retryable: false });
    expect(held.body.error.message).toContain(waiter.body.id);
    expect((await api.get(`/v1/jobs/${first.id}`)).status).toBe(200);
    expect((await api.post(`/v1/jobs/${waiter.body.id}/cancel`, {})).status).toBe(200);
    expect((await api.post(`/v1/jobs/${blocker}/cancel`, {})).status).toBe(200);

    // Only its owner or an admin.
    const other = await api.post('/v1/tokens', { role: 'submitter', name: 'someone-else' });
    const stranger = client(cp.url, other.body.token as string);
    expect((await stranger.delete(`/v1/jobs/${first.id}`)).status).toBe(403);

    expect((await api.delete(`/v1/jobs/${first.id}`)).status).toBe(204);
    expect((await api.get(`/v1/jobs/${first.id}`)).status).toBe(404);
    expect((await logOf(first.id, 1)).status).toBe(404);
    expect((await api.get(`/v1/jobs/${first.id}/results`)).status).toBe(404);
    expect((await api.get(`/v1/jobs/${first.id}/contributors`)).status).toBe(404);
    expect(existsSync(join(artifacts, 'jobs', first.id))).toBe(false);
    expect((await api.delete(`/v1/jobs/${first.id}`)).body.error.code).toBe('JOB_NOT_FOUND');
    const listed = (await api.get('/v1/jobs?limit=100')).body.jobs as { id: string }[];
    expect(listed.map((j) => j.id)).not.toContain(first.id);
    // Nothing of it is left in Redis under its id.
    const left = await cp.app.kumo.redis.keys(`${prefix}:*${first.id}*`);
    expect(left).toEqual([]);
    // The job's totals stay counted (counters never go back), and its Idempotency-Key names nothing now.
    expect([await metric(jobsSucceeded), await metric(tasksSucceeded)]).toEqual(before);
    const again = await submitKeyed('delete-me');
    expect(again.status).toBe(201);
    expect(again.id).not.toBe(first.id);
  });
});
