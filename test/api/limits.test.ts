import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_LIMITS, limitsFromEnv, parseApiEnv } from '@kumo/api';
import { parseLocalEnv } from '@kumo/local';
import { auth, MINIMAL_SPEC, testApi } from '../support/api';
import { waitFor } from '../support/wait';

async function mint(app: FastifyInstance, role: string, name: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(), payload: { role, name } });
  expect(res.statusCode).toBe(201);
  return res.json().token as string;
}

const listen = async (app: FastifyInstance): Promise<string> => {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
};

describe('rate limits per token', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  // 5 at once, then 60 a minute: the sixth request inside the 5 s window is refused.
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl'), { limits: { ratePerMinute: 60, rateBurst: 5 } }));
  });
  afterAll(() => cleanup());

  it('answers 429 RATE_LIMITED with Retry-After past the burst, per token, never for probes or refused tokens', async () => {
    const a = await mint(app, 'viewer', 'rate-a');
    const b = await mint(app, 'viewer', 'rate-b');
    const get = (token: string) => app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(token) });
    for (let i = 0; i < 5; i++) expect((await get(a)).statusCode).toBe(200);
    const limited = await get(a);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(typeof limited.json().error.message).toBe('string');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(5);
    // Another token has its own budget.
    expect((await get(b)).statusCode).toBe(200);
    // A wrong token is refused by auth (401), and is not told to wait as if it were a's.
    expect((await get('kumo_not-a-real-token-at-all')).statusCode).toBe(401);
    // Probes are never limited.
    for (let i = 0; i < 20; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('reads its settings from KUMO_RATE_LIMIT_PER_MINUTE and KUMO_RATE_LIMIT_BURST; generous defaults', () => {
    const env = parseApiEnv({
      KUMO_ADMIN_TOKEN: 'x'.repeat(16),
      KUMO_RATE_LIMIT_PER_MINUTE: '120',
      KUMO_RATE_LIMIT_BURST: '10',
    });
    expect(limitsFromEnv(env)).toMatchObject({ ratePerMinute: 120, rateBurst: 10 });
    expect(limitsFromEnv(parseApiEnv({}))).toEqual({ corsOrigins: [] });
    expect(DEFAULT_LIMITS).toMatchObject({ ratePerMinute: 3000, rateBurst: 200, ssePerToken: 100 });
    expect(() => parseApiEnv({ KUMO_RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(/KUMO_RATE_LIMIT_PER_MINUTE/);
  });
});

describe('event streams: a cap per token, and no timeout cuts them', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  let base: string;
  const open: AbortController[] = [];
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl'), {
      limits: { ssePerToken: 2, connectionTimeoutMs: 1000, ratePerMinute: 0 },
    }));
    base = await listen(app);
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.abort();
  });
  afterAll(() => cleanup());

  const stream = async (token: string, id: string): Promise<{ res: Response; abort: AbortController }> => {
    const abort = new AbortController();
    open.push(abort);
    const res = await fetch(`${base}/v1/jobs/${id}/events`, { headers: auth(token), signal: abort.signal });
    return { res, abort };
  };

  it('refuses the third stream of one token with 429 before the stream starts; other tokens still get theirs', async () => {
    const job = (await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: MINIMAL_SPEC })).json();
    const a = await mint(app, 'viewer', 'sse-a');
    const b = await mint(app, 'viewer', 'sse-b');
    const first = await stream(a, job.id);
    const second = await stream(a, job.id);
    expect(first.res.status).toBe(200);
    expect(second.res.status).toBe(200);
    expect(first.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const third = await stream(a, job.id);
    expect(third.res.status).toBe(429);
    expect(third.res.headers.get('content-type')).toMatch(/application\/json/);
    expect(third.res.headers.get('retry-after')).toBe('5');
    expect((await third.res.json()).error.code).toBe('RATE_LIMITED');
    expect((await stream(b, job.id)).res.status).toBe(200);
    // Closing one frees its slot.
    first.abort.abort();
    await waitFor(
      async () => app.kumo.hub.watchersOf(((await app.kumo.tokens.resolve(a)) ?? { tokenId: '' }).tokenId) === 1,
      { timeoutMs: 5000, what: 'the slot to free' },
    );
    expect((await stream(a, job.id)).res.status).toBe(200);
  });

  it('keeps a quiet stream open past the idle timeout (1 s here), and still delivers the end', async () => {
    const job = (await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: MINIMAL_SPEC })).json();
    const { res } = await stream(auth().authorization!.slice(7), job.id);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (what: string): Promise<void> => {
      while (!text.includes(what)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before '${what}': ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('event: progress');
    await new Promise((r) => setTimeout(r, 2500));
    expect((await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: auth() })).statusCode).toBe(
      200,
    );
    await readUntil('event: end');
    expect(text).toContain('"state":"cancelled"');
  });

  it('closes an idle socket that sent nothing after the idle timeout', async () => {
    const port = Number(new URL(base).port);
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const t0 = Date.now();
      const s = connect(port, '127.0.0.1');
      s.on('error', reject);
      s.on('close', () => resolve(Date.now() - t0));
      setTimeout(() => reject(new Error('idle socket not closed within 5 s')), 5000).unref();
    });
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(5000);
  });

  it('sets a request timeout: the whole request must arrive within it (slow-drip bodies cannot hold a socket)', () => {
    expect(app.server.requestTimeout).toBe(DEFAULT_LIMITS.requestTimeoutMs);
    expect(DEFAULT_LIMITS.requestTimeoutMs).toBe(30_000);
  });
});

describe('event streams: a cap on the whole API too', () => {
  it('refuses a stream past sseTotal with 429, whichever token asks', async () => {
    const { app, cleanup } = await testApi(inject('redisUrl'), {
      limits: { sseTotal: 1, ssePerToken: 5, ratePerMinute: 0 },
    });
    const aborts: AbortController[] = [];
    try {
      const base = await listen(app);
      const job = (
        await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: MINIMAL_SPEC })
      ).json();
      const viewer = await mint(app, 'viewer', 'sse-total');
      const open = (token: string): Promise<Response> => {
        const c = new AbortController();
        aborts.push(c);
        return fetch(`${base}/v1/jobs/${job.id}/events`, { headers: auth(token), signal: c.signal });
      };
      expect((await open(auth().authorization!.slice(7))).status).toBe(200);
      const refused = await open(viewer);
      expect(refused.status).toBe(429);
      expect((await refused.json()).error.code).toBe('RATE_LIMITED');
    } finally {
      for (const c of aborts) c.abort();
      await cleanup();
    }
  });
});

describe('CORS', () => {
  const preflight = {
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization,content-type',
  };

  it('is off unless origins are named: no CORS headers, and no preflight route', async () => {
    const { app, cleanup } = await testApi(inject('redisUrl'));
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/jobs',
        headers: { ...auth(), origin: 'https://evil.example' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await app.inject({
        method: 'OPTIONS',
        url: '/v1/jobs',
        headers: { origin: 'https://evil.example', ...preflight },
      });
      expect(pre.statusCode).toBe(404);
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await cleanup();
    }
  });

  it('with KUMO_CORS_ORIGINS, allows exactly those origins', async () => {
    const origins = limitsFromEnv(
      parseApiEnv({ KUMO_CORS_ORIGINS: 'https://dash.example, https://ops.example' }),
    ).corsOrigins!;
    expect(origins).toEqual(['https://dash.example', 'https://ops.example']);
    expect(() => parseApiEnv({ KUMO_CORS_ORIGINS: 'not a url' })).toThrow(/KUMO_CORS_ORIGINS/);
    const { app, cleanup } = await testApi(inject('redisUrl'), { limits: { corsOrigins: origins } });
    try {
      const ok = await app.inject({
        method: 'GET',
        url: '/v1/jobs',
        headers: { ...auth(), origin: 'https://dash.example' },
      });
      expect(ok.headers['access-control-allow-origin']).toBe('https://dash.example');
      const evil = await app.inject({
        method: 'GET',
        url: '/v1/jobs',
        headers: { ...auth(), origin: 'https://evil.example' },
      });
      expect(evil.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await app.inject({
        method: 'OPTIONS',
        url: '/v1/jobs',
        headers: { origin: 'https://ops.example', ...preflight },
      });
      expect(pre.statusCode).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe('https://ops.example');
      expect(String(pre.headers['access-control-allow-methods'])).toContain('POST');
      expect(String(pre.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    } finally {
      await cleanup();
    }
  });
});

describe('the API listens on 127.0.0.1 unless HOST says otherwise', () => {
  it('defaults HOST to 127.0.0.1 for the API alone and for npm start', () => {
    expect(parseApiEnv({}).HOST).toBe('127.0.0.1');
    expect(parseLocalEnv({}).HOST).toBe('127.0.0.1');
    expect(parseApiEnv({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });

  it('bound to the default, it cannot be reached on another address of this machine', async () => {
    const { app, cleanup } = await testApi(inject('redisUrl'));
    try {
      await app.listen({ host: parseApiEnv({}).HOST, port: 0 });
      const a = app.server.address();
      expect(typeof a === 'object' && a ? a.address : '').toBe('127.0.0.1');
      const port = typeof a === 'object' && a ? a.port : 0;
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      if (outside) {
        const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
          const s = connect(port, outside);
          s.on('connect', () => {
            s.destroy();
            resolve(undefined);
          });
          s.on('error', (e) => resolve(e));
        });
        expect(err?.code).toBe('ECONNREFUSED');
      }
    } finally {
      await cleanup();
    }
  });
});
