import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { GcsArtifactStore, jobSpecSchema, Keys, LISTING_KEPT_DAYS } from '@kumo/shared';
import { startFakeGcs, type FakeGcs } from '../fakes/gcs-server';
import { startTestControlPlane, type TestControlPlane, WORKERLESS_POOL } from '../support/control-plane';
import { addsUp, client } from '../support/http';
import { waitFor } from '../support/wait';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const sha256 = (lines: string[]): string => createHash('sha256').update(lines.join('\n')).digest('hex');
const warc = (n: number): string =>
  `crawl-data/CC-MAIN-2023-50/segments/1700679099281.67/warc/CC-MAIN-20231128083443-20231128113443-${String(n).padStart(5, '0')}.warc.gz`;
/** A command task that reports, as its result, the inputs it was given. */
const REPORT_INPUTS = { command: ['sh', '-c', 'echo "::kumo::result {\\"seen\\": $KUMO_TASK_INPUTS}"'] };

describe('extraction jobs from a listing (source.listing), through the real API, Redis and workers', () => {
  let t: TestControlPlane;
  let gcs: FakeGcs;
  let redis: Redis;
  let keys: Keys;
  /** Whole days a job's listing has left to live (its expiry, rounded up). */
  const keptDays = async (jobId: string): Promise<number> =>
    Math.ceil((await redis.ttl(keys.jobListing(jobId))) / 86_400);
  let tmp: string;
  let root: string;
  const five = [1, 2, 3, 4, 5].map(warc);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-listing-'));
    root = join(tmp, 'lists');
    mkdirSync(root);
    mkdirSync(join(tmp, 'outside'));
    gcs = await startFakeGcs();
    t = await startTestControlPlane('listing', {
      localPool: { max: 1, slotsPerVm: 4, idleTimeoutSeconds: 30 },
      listings: { roots: [root], storageEndpoint: gcs.endpoint, projectId: 'kumo-test' },
    });
    redis = new Redis(inject('redisUrl'));
    keys = new Keys(t.prefix);
  });
  afterAll(async () => {
    await t?.stop();
    await gcs?.close();
    await redis?.quit();
    rmSync(tmp, { recursive: true, force: true });
  });

  const file = (name: string, body: string | Buffer): string => {
    writeFileSync(join(root, name), body);
    return join(root, name);
  };
  const spec = (source: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    kind: 'extraction',
    name: 'from-listing',
    source: { snapshot: 'CC-MAIN-2023-50', ...source },
    pool: 'local',
    retry: { maxAttempts: 1 },
    run: REPORT_INPUTS,
    ...extra,
  });
  /** Waits for the job to succeed; answers what each task reported it was given, by index. */
  const seenByTask = async (id: string): Promise<string[][]> => {
    const job = await waitFor(
      async () => {
        const j = (await t.api.get(`/v1/jobs/${id}`)).body;
        expect(addsUp(j.progress)).toBe(true);
        if (j.state === 'failed')
          throw new Error(`job failed: ${JSON.stringify((await t.api.get(`/v1/jobs/${id}/tasks`)).body)}`);
        return j.state === 'succeeded' ? j : undefined;
      },
      { timeoutMs: 45_000, what: `job ${id} to succeed` },
    );
    const { results } = (await t.api.get(`/v1/jobs/${id}/results`)).body as {
      results: { index: number; result: { seen: string[] } }[];
    };
    expect(results.map((r) => r.index)).toEqual([...Array(job.progress.total as number).keys()]);
    return results.map((r) => r.result.seen);
  };
  /** Every job and every stored listing under this control plane's prefix. */
  const stored = async (): Promise<{ jobs: number; listings: string[] }> => ({
    jobs: await redis.zcard(keys.jobsIndex()),
    listings: (await redis.keys(`${t.prefix}:job:*:listing`)).sort(),
  });

  it('a gzip listing under an allowed root: batches = its lines, their sha256, one real WARC path per task', async () => {
    // No .gz in the name: gzip is known by its magic bytes.
    const listing = file('cc-main-2023-50-paths', gzipSync(`# CC-MAIN-2023-50, first five\n${five.join('\n')}\n\n`));
    const sub = await t.api.post('/v1/jobs', spec({ listing }));
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    expect(sub.body.spec.source).toEqual({
      snapshot: 'CC-MAIN-2023-50',
      listing,
      batches: 5,
      listingSha256: sha256(five),
    });
    expect(sub.body.progress).toMatchObject({ total: 5, unit: 'batches' });
    expect(await redis.lrange(keys.jobListing(sub.body.id), 0, -1)).toEqual(five);
    expect(await seenByTask(sub.body.id)).toEqual(five.map((p) => [p]));
    // Kept, with an expiry set in the same script that ends the job, for a rerun of its tasks (which
    // copies it); the job still says what it ran.
    expect(await keptDays(sub.body.id)).toBe(LISTING_KEPT_DAYS);
    expect((await t.api.get(`/v1/jobs/${sub.body.id}`)).body.spec.source).toEqual({
      snapshot: 'CC-MAIN-2023-50',
      listing,
      batches: 5,
      listingSha256: sha256(five),
    });
  });

  it('batchSize 3 over 7 plain lines: tasks of 3, 3 and 1; batches with a listing caps it to the first N lines', async () => {
    const seven = [10, 11, 12, 13, 14, 15, 16].map(warc);
    const listing = file('seven.paths', `${seven.join('\r\n')}\r\n`);
    const sub = await t.api.post('/v1/jobs', spec({ listing }, { batchSize: 3 }));
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    expect(sub.body.progress).toMatchObject({ total: 3, unit: 'tasks' });
    expect(sub.body.spec.source).toMatchObject({ batches: 7, listingSha256: sha256(seven) });

    const capped = await t.api.post('/v1/jobs', spec({ listing, batches: 2 }));
    expect(capped.status, JSON.stringify(capped.body)).toBe(201);
    expect(capped.body.spec.source).toEqual({
      snapshot: 'CC-MAIN-2023-50',
      listing,
      batches: 2,
      listingSha256: sha256(seven.slice(0, 2)),
    });
    expect(await redis.llen(keys.jobListing(capped.body.id))).toBe(2);

    expect(await seenByTask(sub.body.id)).toEqual([seven.slice(0, 3), seven.slice(3, 6), seven.slice(6)]);
    expect(await seenByTask(capped.body.id)).toEqual([[seven[0]], [seven[1]]]);
  });

  it('a gs:// listing through the GCS JSON API (KUMO_STORAGE_ENDPOINT): its count, and the paths its tasks get', async () => {
    const lines = [20, 21, 22].map(warc);
    await new GcsArtifactStore({ bucket: 'kumo-lists', projectId: 'kumo-test', endpoint: gcs.endpoint }).put(
      'crawl-data/CC-MAIN-2023-50/warc.paths.gz',
      gzipSync(lines.join('\n')),
    );
    const listing = 'gs://kumo-lists/crawl-data/CC-MAIN-2023-50/warc.paths.gz';
    const sub = await t.api.post('/v1/jobs', spec({ listing }, { batchSize: 2 }));
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    expect(sub.body.spec.source).toMatchObject({ listing, batches: 3, listingSha256: sha256(lines) });
    expect(await seenByTask(sub.body.id)).toEqual([lines.slice(0, 2), lines.slice(2)]);
  });

  it('refuses, with a 400 and a code, and leaves no job and no list: http://, outside the roots, hidden, empty, binary, missing', async () => {
    const outside = join(tmp, 'outside', 'warc.paths');
    writeFileSync(outside, `${five.join('\n')}\n`);
    symlinkSync(outside, join(root, 'escape.paths'));
    mkdirSync(join(root, '.private'));
    file('.private/warc.paths', `${five[0]}\n`);
    const cases: [string, string | Buffer | undefined, string, RegExp][] = [
      ['http://127.0.0.1:9/warc.paths.gz', undefined, 'LISTING_NOT_ALLOWED', /'http:' is not allowed/],
      ['/etc/hostname', undefined, 'LISTING_NOT_ALLOWED', /not inside a folder listings may be read from/],
      [join(root, '..', 'outside', 'warc.paths'), undefined, 'LISTING_NOT_ALLOWED', /not inside/],
      [join(root, 'escape.paths'), undefined, 'LISTING_NOT_ALLOWED', /not inside/],
      [join(root, '.private', 'warc.paths'), undefined, 'LISTING_NOT_ALLOWED', /or is hidden/],
      ['empty.paths', '# nothing here yet\n\n', 'LISTING_INVALID', /names no files/],
      ['empty.paths.gz', gzipSync(''), 'LISTING_INVALID', /names no files/],
      // An ELF header: DEL, NULs.
      [
        'garbage.paths',
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x0a]),
        'LISTING_INVALID',
        /line 1 holds a control character/,
      ],
      ['garbage.paths.gz', gzipSync(Buffer.from([0x61, 0x0a, 0xc3, 0x28, 0x0a])), 'LISTING_INVALID', /not UTF-8/],
      ['broken.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]), 'LISTING_INVALID', /does not decompress/],
      [join(root, 'no-such.paths'), undefined, 'LISTING_UNREADABLE', /no such file/],
      ['gs://kumo-lists/no/such/object.gz', undefined, 'LISTING_UNREADABLE', /no such object/],
    ];
    const before = await stored();
    for (const [name, body, code, message] of cases) {
      const listing = body === undefined ? name : file(name, body);
      const res = await t.api.post('/v1/jobs', spec({ listing }));
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error, name).toMatchObject({
        code,
        message: expect.stringMatching(message),
        issues: [{ path: ['source', 'listing'] }],
      });
    }
    // A good listing for a pool that does not exist: read, then refused; its list goes with it.
    const good = file('good.paths', `${five.join('\n')}\n`);
    expect((await t.api.post('/v1/jobs', spec({ listing: good }, { pool: 'nowhere' }))).body.error.code).toBe(
      'INVALID_INPUT',
    );
    // A pipeline whose second stage's listing is bad makes no job at all, not even the first stage's.
    const pipe = await t.api.post('/v1/pipelines', {
      name: 'p',
      stages: [
        { name: 'a', job: spec({ listing: good }) },
        { name: 'b', after: ['a'], job: spec({ listing: '/etc/hostname' }) },
      ],
    });
    expect(pipe.status).toBe(400);
    expect(pipe.body.error).toMatchObject({
      code: 'LISTING_NOT_ALLOWED',
      issues: [{ path: ['stages', 1, 'job', 'source', 'listing'] }],
    });
    expect(await stored()).toEqual(before);
  });

  it('an Idempotency-Key repeat answers with the first job, reads nothing and writes no second list; pipelines resolve their stages', async () => {
    // A pool with no VMs: the jobs stay queued, their lists in place while the test looks at them.
    await t.api.put('/v1/pools/parked', WORKERLESS_POOL);
    const parked = { run: { builtin: 'noop' }, pool: 'parked' };
    const listing = file('idem.paths', `${five.slice(0, 2).join('\n')}\n`);
    const submit = (body: unknown) =>
      fetch(`${t.cp.url}/v1/jobs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.token}`,
          'content-type': 'application/json',
          'idempotency-key': 'listing-1',
        },
        body: JSON.stringify(body),
      });
    const before = await stored();
    const a = await submit(spec({ listing }, parked));
    expect(a.status).toBe(201);
    const first = await a.json();
    // Even if the file changed since: the key names the request as submitted, and its job.
    writeFileSync(listing, `${five.join('\n')}\n`);
    const b = await submit(spec({ listing }, parked));
    expect(b.status).toBe(200);
    expect((await b.json()).id).toBe(first.id);
    const c = await submit(spec({ listing }, { ...parked, name: 'another' }));
    expect(c.status).toBe(409);
    expect(await stored()).toEqual({
      jobs: before.jobs + 1,
      listings: [...before.listings, keys.jobListing(first.id)].sort(),
    });
    expect(await redis.lrange(keys.jobListing(first.id), 0, -1)).toEqual(five.slice(0, 2));

    const pipe = await t.api.post('/v1/pipelines', {
      name: 'p',
      stages: [{ name: 'extract', job: spec({ listing }, parked) }],
    });
    expect(pipe.status, JSON.stringify(pipe.body)).toBe(201);
    const job = (await t.api.get(`/v1/jobs/${pipe.body.stages[0].jobId}`)).body;
    expect(job.spec.source).toMatchObject({ batches: 5, listingSha256: sha256(five) });
    expect(await redis.lrange(keys.jobListing(job.id), 0, -1)).toEqual(five);

    // A cancelled job's list is kept for a rerun too, expiring; a live job's does not expire.
    expect((await t.api.post(`/v1/jobs/${first.id}/cancel`, {})).status).toBe(200);
    expect(await keptDays(first.id)).toBe(LISTING_KEPT_DAYS);
    expect(await redis.ttl(keys.jobListing(job.id))).toBe(-1);
  });

  it('examples/cc-main-2023-50-listing.yaml is a valid spec: the snapshot\u2019s https listing, its first 1,000 lines', () => {
    const example = jobSpecSchema.parse(
      parse(readFileSync(join(REPO, 'examples/cc-main-2023-50-listing.yaml'), 'utf8')),
    );
    expect(example.kind === 'extraction' && example.source).toEqual({
      snapshot: 'CC-MAIN-2023-50',
      listing: 'https://data.commoncrawl.org/crawl-data/CC-MAIN-2023-50/warc.paths.gz',
      batches: 1000,
    });
  });

  it('an HTTPS worker leasing a listing job\u2019s tasks gets the real WARC paths of each', async () => {
    // A pool with no VMs of its own: only the HTTPS worker below takes its tasks.
    await t.api.put('/v1/pools/contrib', WORKERLESS_POOL);
    const tok = await t.api.post('/v1/tokens', { role: 'worker', name: 'laptop', pool: 'contrib' });
    const worker = client(t.cp.url, tok.body.token as string);
    const three = [30, 31, 32].map(warc);
    const sub = await t.api.post(
      '/v1/jobs',
      spec(
        { listing: file('lease.paths', three.join('\n')) },
        { pool: 'contrib', batchSize: 2, run: { builtin: 'noop' } },
      ),
    );
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    const seen = new Map<number, string[]>();
    await waitFor(
      async () => {
        const r = await worker.post('/v1/workers/lease', { workerId: 'laptop', pool: 'contrib', max: 2 });
        for (const task of r.body.tasks ?? []) {
          expect(task.jobId).toBe(sub.body.id);
          seen.set(task.index, JSON.parse(task.env.KUMO_TASK_INPUTS));
          expect(
            (await worker.post('/v1/workers/complete', { leaseId: task.leaseId, outcome: 'succeeded' })).status,
          ).toBe(200);
        }
        return seen.size === 2;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'both tasks leased' },
    );
    expect([...seen.entries()].sort(([a], [b]) => a - b)).toEqual([
      [0, three.slice(0, 2)],
      [1, three.slice(2)],
    ]);

    // Were a job's list ever gone, its tasks fail for good (TASK_INVALID): never a made-up input.
    const lost = await t.api.post(
      '/v1/jobs',
      spec({ listing: file('lost.paths', three[0]!) }, { pool: 'contrib', run: { builtin: 'noop' } }),
    );
    await redis.del(keys.jobListing(lost.body.id));
    const failed = await waitFor(
      async () => {
        const r = await worker.post('/v1/workers/lease', { workerId: 'laptop', pool: 'contrib', max: 1 });
        expect(r.body.tasks).toEqual([]);
        const j = (await t.api.get(`/v1/jobs/${lost.body.id}`)).body;
        return j.state === 'failed' ? j : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the job without its list to fail' },
    );
    expect(failed.progress).toMatchObject({ total: 1, failed: 1 });
    const [failure] = (await t.api.get(`/v1/jobs/${lost.body.id}/tasks`)).body.tasks;
    expect(failure.error).toMatchObject({ code: 'TASK_INVALID', retryable: false });
  });
});
