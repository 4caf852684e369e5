import { Redis } from 'ioredis';
import { RedisMonitor } from '../support/redis-monitor';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Keys } from '@kumo/shared';
import { auth, MINIMAL_SPEC, testApi } from '../support/api';
import { LIST_EXAMINE_MAX } from '@kumo/api';

/**
 * What a request costs, counted as Redis sees it (MONITOR), never timed: every command the request
 * sends on keys under `prefix`, with its arguments.
 */
async function commandsOf(redisUrl: string, prefix: string, fn: () => Promise<unknown>): Promise<string[][]> {
  const seen: string[][] = [];
  const fence = `${prefix}:fence:${Math.random()}`;
  let fenced: () => void = () => undefined;
  const done = new Promise<void>((r) => (fenced = r));
  const monitor = await RedisMonitor.start(redisUrl, (args) => {
    if (args.includes(fence)) fenced();
    else if (args.some((a) => a.startsWith(`${prefix}:`))) seen.push(args);
  });
  const probe = new Redis(redisUrl);
  try {
    await fn();
    // MONITOR lines arrive on their own connection: a command sent after the request marks the end of its lines.
    await probe.get(fence);
    await done;
  } finally {
    probe.disconnect();
    monitor.stop();
  }
  return seen;
}

describe('what a page costs', () => {
  const redisUrl = inject('redisUrl');
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  let prefix: string;
  let redis: Redis;
  let keys: Keys;
  beforeAll(async () => {
    ({ app, cleanup, prefix, redis } = await testApi(redisUrl));
    keys = new Keys(prefix);
  });
  afterAll(() => cleanup());

  it('GET /v1/jobs/:id/results?limit=1 on a 200,000-result ledger looks up O(page) entries, not the ledger', async () => {
    const job = (
      await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: auth(),
        payload: { ...MINIMAL_SPEC, source: { snapshot: 'S', batches: 200_000 } },
      })
    ).json();
    const key = keys.jobResults(job.id);
    for (let from = 0; from < 200_000; from += 10_000) {
      const fields: string[] = [];
      for (let i = from; i < from + 10_000; i++) fields.push(String(i), JSON.stringify({ records: i }));
      await redis.hset(key, ...fields);
    }
    let body: { results: { index: number; result: { records: number } }[]; nextAfterIndex: number | null } | undefined;
    const cmds = await commandsOf(redisUrl, prefix, async () => {
      const res = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?limit=1`, headers: auth() });
      expect(res.statusCode).toBe(200);
      body = res.json();
    });
    expect(body).toEqual({ results: [{ index: 0, result: { records: 0 } }], nextAfterIndex: 0 });
    const onLedger = cmds.filter((c) => c.includes(key));
    expect(
      onLedger.map((c) => c[0]!.toLowerCase()).filter((c) => !['hlen', 'hmget'].includes(c)),
      'no scan of the whole ledger',
    ).toEqual([]);
    const looked = onLedger.filter((c) => c[0]!.toLowerCase() === 'hmget').reduce((n, c) => n + c.length - 2, 0);
    expect(looked).toBeLessThanOrEqual(100);
    // Paging goes on where it stopped, in index order.
    const next = (
      await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?limit=3&afterIndex=199995`, headers: auth() })
    ).json();
    expect(next).toEqual({
      results: [199_996, 199_997, 199_998].map((i) => ({ index: i, result: { records: i } })),
      nextAfterIndex: 199_998,
    });
    const tail = (
      await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?limit=3&afterIndex=199998`, headers: auth() })
    ).json();
    expect(tail).toEqual({ results: [{ index: 199_999, result: { records: 199_999 } }], nextAfterIndex: null });
  });

  it('a sparse ledger still pages through every result, in order', async () => {
    const job = (
      await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: auth(),
        payload: { ...MINIMAL_SPEC, source: { snapshot: 'S', batches: 100_000 } },
      })
    ).json();
    const want: number[] = [];
    const fields: string[] = [];
    for (let i = 7; i < 100_000; i += 37) {
      want.push(i);
      fields.push(String(i), '{}');
    }
    await redis.hset(keys.jobResults(job.id), ...fields);
    const got: number[] = [];
    let after: number | null = -1;
    for (let pages = 0; after !== null && pages < 100; pages++) {
      const page: { results: { index: number }[]; nextAfterIndex: number | null } = (
        await app.inject({
          method: 'GET',
          url: `/v1/jobs/${job.id}/results?limit=500&afterIndex=${after}`,
          headers: auth(),
        })
      ).json();
      got.push(...page.results.map((r) => r.index));
      after = page.nextAfterIndex;
    }
    expect(got).toEqual(want);
  });

  it('a filtered GET /v1/jobs looks at a bounded number of jobs per page, and its cursor goes on from there', async () => {
    const mine = (
      await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: auth(),
        payload: { ...MINIMAL_SPEC, user: 'lister' },
      })
    ).json();
    // 3,000 newer jobs of someone else's, all finished: none matches.
    const now = Date.now();
    const pipe = redis.pipeline();
    for (let n = 0; n < 3000; n++) {
      const id = `job_zz${String(n).padStart(6, '0')}`;
      pipe.zadd(keys.jobsIndex(), 0, id);
      pipe.hset(keys.job(id), {
        id,
        kind: 'extraction',
        name: 'old',
        pool: 'local',
        user: 'someone',
        state: 'succeeded',
        createdAt: now,
        total: 1,
      });
    }
    await pipe.exec();
    let first: { jobs: { id: string }[]; nextCursor: string | null } | undefined;
    const cmds = await commandsOf(redisUrl, prefix, async () => {
      first = (
        await app.inject({ method: 'GET', url: '/v1/jobs?state=queued&user=lister&limit=10', headers: auth() })
      ).json();
    });
    const jobsLookedAt = new Set(
      cmds.flatMap((c) => c.slice(1).filter((a) => a.startsWith(`${prefix}:job:`))).map((k) => k.split(':')[2]),
    );
    expect(jobsLookedAt.size).toBeLessThanOrEqual(LIST_EXAMINE_MAX);
    expect(first!.jobs).toEqual([]);
    expect(first!.nextCursor).not.toBeNull();
    const second = (
      await app.inject({
        method: 'GET',
        url: `/v1/jobs?state=queued&user=lister&limit=10&cursor=${first!.nextCursor}`,
        headers: auth(),
      })
    ).json();
    expect(second.jobs.map((j: { id: string }) => j.id)).toEqual([mine.id]);
    expect(second.nextCursor).toBeNull();
    // Unfiltered, a page is still just the page.
    const plain = (await app.inject({ method: 'GET', url: '/v1/jobs?limit=2', headers: auth() })).json();
    expect(plain.jobs).toHaveLength(2);
  });
});
