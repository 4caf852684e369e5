import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '@kumo/local';
import { createBus, createLogger, type Bus, type TaskEvent } from '@kumo/shared';
import { reportFault, sleep, waitForEnd, type JobLike } from '../support/faults';
import { client } from '../support/http';
import { testPrefix, deleteKeys } from '../support/prefix';

const TOKEN = 'bus-chaos-admin-token-0123456789';

/** A small seeded generator (mulberry32), so a failing run can be replayed from the seed it prints. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/**
 * What workers could have said about a job of 120 tasks, all of it true, in every order:
 * - 0..59: started, succeeded;
 * - 60..79: a first attempt that succeeded, and a second one (a stalled re-run) that succeeded too;
 * - 80..89: started, handed back (drain), started again, succeeded;
 * - 90..109: failed once, retried, succeeded on attempt 2;
 * - 110..119: failed once, retried, failed for good on attempt 2.
 * So: 110 succeeded, 10 failed, none running, whatever the bus does to the messages.
 */
function history(jobId: string): TaskEvent[] {
  const at = Date.now();
  const e = (t: TaskEvent['t'], i: number, a: number, w: string, extra: Partial<TaskEvent> = {}): TaskEvent => ({
    t,
    j: jobId,
    i,
    a,
    w,
    at,
    ...extra,
  });
  const err = { code: 'TASK_EXIT_NONZERO', message: 'task exited with code 1', retryable: true };
  const out: TaskEvent[] = [];
  for (let i = 0; i < 120; i++) {
    if (i < 60) out.push(e('s', i, 1, 'w-a'), e('ok', i, 1, 'w-a', { d: 100 }));
    else if (i < 80)
      out.push(
        e('s', i, 1, 'w-a'),
        e('ok', i, 1, 'w-a', { d: 100 }),
        e('s', i, 2, 'w-b'),
        e('ok', i, 2, 'w-b', { d: 100 }),
      );
    else if (i < 90)
      out.push(
        e('s', i, 1, 'w-a'),
        e('rel', i, 1, 'w-a', { d: 50 }),
        e('s', i, 1, 'w-b'),
        e('ok', i, 1, 'w-b', { d: 100 }),
      );
    else if (i < 110)
      out.push(
        e('s', i, 1, 'w-a'),
        e('r', i, 1, 'w-a', { d: 100, err, log: 'boom' }),
        e('s', i, 2, 'w-b'),
        e('ok', i, 2, 'w-b', { d: 100 }),
      );
    else
      out.push(
        e('s', i, 1, 'w-a'),
        e('r', i, 1, 'w-a', { d: 100, err, log: 'boom' }),
        e('s', i, 2, 'w-b'),
        e('f', i, 2, 'w-b', { d: 100, err: { ...err, retryable: false }, log: 'boom' }),
      );
  }
  return out;
}

/** Batches of 1..15 shuffled events; each published once, some again under the same id (a redelivery), some under a new one (a duplicate), all in shuffled order. */
function chaos(events: TaskEvent[], rand: () => number): { id: string; events: TaskEvent[] }[] {
  const shuffled = shuffle([...events], rand);
  const batches: { id: string; events: TaskEvent[] }[] = [];
  for (let n = 0; n < shuffled.length;) {
    const size = 1 + Math.floor(rand() * 15);
    batches.push({ id: randomUUID(), events: shuffled.slice(n, n + size) });
    n += size;
  }
  const sends = [...batches];
  for (const b of batches) {
    if (rand() < 0.4) sends.push(b);
    if (rand() < 0.3) sends.push({ id: randomUUID(), events: shuffle([...b.events], rand) });
  }
  return shuffle(sends, rand);
}

describe('the bus redelivers, duplicates and reorders progress: counts stay exact', () => {
  const prefix = testPrefix('chaos');
  let cp: ControlPlane;
  let bus: Bus;

  beforeAll(async () => {
    // No workers: every event comes from the test, straight onto the bus the ingester reads.
    cp = await startControlPlane({
      dataDir: mkdtempSync(join(tmpdir(), 'kumo-chaos-')),
      host: '127.0.0.1',
      port: 0,
      adminToken: TOKEN,
      redisUrl: inject('redisUrl'),
      prefix,
      logger: createLogger({ name: 'chaos', level: 'warn' }),
      localPool: { max: 0 },
      cloud: { bus: 'redis', provider: 'local' },
      inheritedEnv: process.env,
    });
    bus = await createBus({
      kind: 'redis',
      redisUrl: inject('redisUrl'),
      prefix,
      logger: createLogger({ name: 'chaos-bus', level: 'warn' }),
    });
  });
  afterAll(async () => {
    await bus.close();
    await cp.stop();
    await deleteKeys(prefix);
  });

  it('three jobs, three seeds: 110 succeeded, 10 failed, 0 running in each, and nothing moves after', async () => {
    const api = client(cp.url, TOKEN);
    const seeds = [1, 2, 3].map((n) => (Date.now() + n * 7919) % 2 ** 31);
    const jobs: { id: string; seed: number; sends: number }[] = [];
    for (const seed of seeds) {
      const sub = await api.post('/v1/jobs', {
        kind: 'extraction',
        name: `chaos-${seed}`,
        source: { snapshot: 'CC-MAIN-2023-50', batches: 120 },
        pool: 'local',
        failurePolicy: { maxFailedTasks: 10 },
        run: { builtin: 'noop' },
      });
      expect(sub.status).toBe(201);
      const sends = chaos(history(sub.body.id), rng(seed));
      jobs.push({ id: sub.body.id, seed, sends: sends.length });
      await Promise.all(
        sends.map((s) => bus.publish('progress', { workerId: s.events[0]!.w, events: s.events }, { id: s.id })),
      );
    }
    for (const j of jobs) {
      const job = await waitForEnd(api, j.id, 30_000);
      // Let every duplicate still on the bus arrive; then nothing may have moved.
      await sleep(1500);
      const after = (await api.get(`/v1/jobs/${j.id}`)).body as JobLike;
      reportFault('bus-chaos', after, { seed: j.seed, messages: j.sends });
      expect(after.progress, `seed ${j.seed}`).toMatchObject({
        total: 120,
        succeeded: 110,
        failed: 10,
        running: 0,
        queued: 0,
      });
      const counts = (p: JobLike['progress']) => [p.succeeded, p.failed, p.running, p.queued];
      expect(counts(after.progress)).toEqual(counts(job.progress));
      expect(after.state).toBe('succeeded');
      // Hand-backs are counted apart and never more than happened (10); a late one may go uncounted.
      expect(after.handBacks).toBeLessThanOrEqual(10);
      const failures = (await api.get(`/v1/jobs/${j.id}/tasks`)).body.tasks as { index: number; final: boolean }[];
      expect(failures.map((f) => f.index).sort((a, b) => a - b)).toEqual([
        110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
      ]);
    }
  });
});
