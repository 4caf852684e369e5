import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { addressKey, DEFAULT_LIMITS, limitsFromEnv, parseApiEnv } from '@kumo/api';
import { parseWorkerEnv } from '@kumo/worker';
import { auth, MINIMAL_SPEC, testApi } from '../support/api';
import { waitFor } from '../support/wait';

async function mint(app: FastifyInstance, role: string, name: string): Promise<{ id: string; token: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(), payload: { role, name } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; token: string };
}

const listen = async (app: FastifyInstance): Promise<number> => {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
};

/** Sends a request and hangs up at once, before any answer: a client that goes away immediately. */
const hangUp = (port: number, path: string, token: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
      );
      s.destroy();
    });
    s.on('close', () => resolve());
    s.on('error', reject);
  });

describe('event streams whose client leaves at once', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  let port: number;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl'), { limits: { ssePerToken: 2, ratePerMinute: 0 } }));
    port = await listen(app);
  });
  afterAll(() => cleanup());

  it('give their slot back: after 5 hung-up streams (cap 2), the token still gets a stream', async () => {
    const job = (await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: MINIMAL_SPEC })).json();
    const viewer = await mint(app, 'viewer', 'sse-hangup');
    await Promise.all(Array.from({ length: 5 }, () => hangUp(port, `/v1/jobs/${job.id}/events`, viewer.token)));
    // The handlers of those requests may still be reading the job: give them the time to (leak or not).
    await new Promise((r) => setTimeout(r, 300));
    await waitFor(async () => app.kumo.hub.watchersOf(viewer.id) === 0, {
      timeoutMs: 3000,
      what: 'no stream left held by the token',
    });
    const abort = new AbortController();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/jobs/${job.id}/events`, {
        headers: auth(viewer.token),
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
    } finally {
      abort.abort();
    }
  });
});

describe('simulation ids', () => {
  it("GET /v1/simulations/meta (or any of the queue's own keys) is a 404, not the queue's metadata", async () => {
    const { app, cleanup } = await testApi(inject('redisUrl'));
    try {
      const input = JSON.parse(readFileSync('examples/simulate-cc-main-2023-50.json', 'utf8')) as Record<
        string,
        unknown
      >;
      const sub = await app.inject({ method: 'POST', url: '/v1/simulations', headers: auth(), payload: input });
      expect(sub.statusCode).toBe(202);
      expect(
        (await app.inject({ method: 'GET', url: `/v1/simulations/${sub.json().id}`, headers: auth() })).statusCode,
      ).toBe(200);
      for (const id of ['meta', 'events', 'id', 'wait', 'sim_nope']) {
        const res = await app.inject({ method: 'GET', url: `/v1/simulations/${id}`, headers: auth() });
        expect(res.statusCode, id).toBe(404);
        expect(res.json().error.code, id).toBe('NOT_FOUND');
      }
    } finally {
      await cleanup();
    }
  });
});

describe('KUMO_CONTROL_URL', () => {
  const env = (url: string) => parseWorkerEnv({ KUMO_WORKER_TOKEN: 'w'.repeat(32), KUMO_CONTROL_URL: url });

  it('is https://, or plain http:// only to loopback, for a worker with a token', () => {
    for (const ok of [
      'https://kumo.example.com',
      'https://10.0.0.2:8443',
      'http://127.0.0.1:8080',
      'http://127.3.4.5',
      'http://localhost:8080',
      'http://[::1]:8080',
    ]) {
      expect(env(ok).KUMO_CONTROL_URL, ok).toBe(ok);
    }
    for (const bad of [
      'http://10.0.0.2:8080',
      'http://kumo.example.com',
      'http://localhost.evil.example',
      'http://128.0.0.1',
      'http://[::2]',
      'ftp://127.0.0.1',
    ]) {
      expect(() => env(bad), bad).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('KUMO_CONTROL_URL') }),
      );
    }
    // A fleet worker (no token) talks to Redis, not to the URL it is told: nothing travels to it.
    expect(parseWorkerEnv({ KUMO_CONTROL_URL: 'http://10.0.0.2:8080' }).KUMO_CONTROL_URL).toBe('http://10.0.0.2:8080');
  });
});

describe('wrong tokens, per client address', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl')));
  });
  afterAll(() => cleanup());

  const get = (token: string, remoteAddress: string) =>
    app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(token), remoteAddress });

  it('are answered 429 RATE_LIMITED with Retry-After past the limit, from that address only', async () => {
    const viewer = await mint(app, 'viewer', 'doors-viewer');
    const codes: number[] = [];
    let limited: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 300; i++) {
      const res = await get(`kumo_guess-${i}-${'x'.repeat(20)}`, '203.0.113.7');
      codes.push(res.statusCode);
      if (res.statusCode === 429) limited ??= res;
    }
    expect(codes.filter((c) => c === 401)).toHaveLength(DEFAULT_LIMITS.authFailuresPerMinute);
    expect(codes.filter((c) => c === 429)).toHaveLength(300 - DEFAULT_LIMITS.authFailuresPerMinute);
    expect(limited!.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String), retryable: true } });
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited!.headers['retry-after'])).toBeLessThanOrEqual(60);
    // No new token from that address is looked up now, a valid one never used included: no guess is judged.
    expect((await get(viewer.token, '203.0.113.7')).statusCode).toBe(429);
    // Other addresses are untouched: a valid token works, a wrong one is a plain 401.
    expect((await get(viewer.token, '198.51.100.9')).statusCode).toBe(200);
    expect((await get('kumo_wrong-but-elsewhere-0000000', '198.51.100.10')).statusCode).toBe(401);
    // Tokens in use still work from the waiting address (many people may share it behind a proxy): one
    // that just resolved elsewhere, and the admin token.
    expect((await get(viewer.token, '203.0.113.7')).statusCode).toBe(200);
    expect((await get(auth().authorization!.slice(7), '203.0.113.7')).statusCode).toBe(200);
    expect((await get('kumo_guess-after-000000000000000', '203.0.113.7')).statusCode).toBe(429);
  });

  it('count an IPv6 client per /64, and read their limit from KUMO_AUTH_FAILURES_PER_MINUTE', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(limitsFromEnv(parseApiEnv({ KUMO_AUTH_FAILURES_PER_MINUTE: '20' }))).toMatchObject({
      authFailuresPerMinute: 20,
    });
    expect(limitsFromEnv(parseApiEnv({}))).not.toHaveProperty('authFailuresPerMinute');
    expect(() => parseApiEnv({ KUMO_AUTH_FAILURES_PER_MINUTE: '-1' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('quotas per user', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  // Relative to the working directory, the API's one listing root in tests.
  const dir = `test-artifacts/doors-quota-${process.pid}`;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl'), {
      limits: { liveJobsPerUser: 3, listingBytesPerUser: 100 },
    }));
    mkdirSync(dir, { recursive: true });
    // 5 lines of 11 characters and a newline: 60 bytes.
    writeFileSync(`${dir}/warc.paths`, ['a', 'b', 'c', 'd', 'e'].map((c) => `${c}/0.warc.gz`).join('\n') + '\n');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await cleanup();
  });

  const submit = (token: string, payload: Record<string, unknown> = MINIMAL_SPEC, key?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth(token), ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });

  it('on live jobs: one past the quota is 429 QUOTA_EXCEEDED; an ended job gives its room back; admins are exempt', async () => {
    const sub = await mint(app, 'submitter', 'quota-sub');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await submit(sub.token, MINIMAL_SPEC, `quota-${i}`);
      expect(res.statusCode).toBe(201);
      ids.push(res.json().id as string);
    }
    const over = await submit(sub.token);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({
      error: { code: 'QUOTA_EXCEEDED', message: expect.stringContaining('live jobs'), retryable: true },
    });
    // A pipeline is held to the same quota.
    const pipeline = await app.inject({
      method: 'POST',
      url: '/v1/pipelines',
      headers: auth(sub.token),
      payload: { name: 'p', stages: [{ name: 'a', job: MINIMAL_SPEC }] },
    });
    expect(pipeline.statusCode).toBe(429);
    expect(pipeline.json().error.code).toBe('QUOTA_EXCEEDED');
    // A repeat of a keyed submit that made a job still gets its job.
    const repeat = await submit(sub.token, MINIMAL_SPEC, 'quota-1');
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json().id).toBe(ids[1]);
    for (let i = 0; i < 5; i++) expect((await submit(auth().authorization!.slice(7))).statusCode).toBe(201);
    expect(
      (await app.inject({ method: 'POST', url: `/v1/jobs/${ids[0]}/cancel`, headers: auth(sub.token) })).statusCode,
    ).toBe(200);
    expect((await submit(sub.token)).statusCode).toBe(201);
    expect((await submit(sub.token)).statusCode).toBe(429);
  });

  it('on listing bytes held in Redis: a listing that would pass the quota is refused, a job without one is not', async () => {
    const sub = await mint(app, 'submitter', 'quota-lister');
    const listing = { ...MINIMAL_SPEC, source: { snapshot: 'S', listing: `${dir}/warc.paths` } };
    expect((await submit(sub.token, listing)).statusCode).toBe(201);
    const over = await submit(sub.token, listing);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({
      error: { code: 'QUOTA_EXCEEDED', message: expect.stringContaining('listings'), retryable: true },
    });
    expect((await submit(sub.token)).statusCode).toBe(201);
  });

  it('reads its settings from KUMO_QUOTA_LIVE_JOBS and KUMO_QUOTA_LISTING_BYTES, with defaults', () => {
    expect(limitsFromEnv(parseApiEnv({ KUMO_QUOTA_LIVE_JOBS: '50', KUMO_QUOTA_LISTING_BYTES: '0' }))).toMatchObject({
      liveJobsPerUser: 50,
      listingBytesPerUser: 0,
    });
    expect(DEFAULT_LIMITS).toMatchObject({ liveJobsPerUser: 1000, listingBytesPerUser: 256 * 1024 * 1024 });
  });
});
