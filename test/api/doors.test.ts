import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseWorkerEnv } from '../../services/worker/src/env';
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
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`);
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
    await waitFor(async () => app.kumo.hub.watchersOf(viewer.id) === 0, { timeoutMs: 3000, what: 'no stream left held by the token' });
    const abort = new AbortController();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/jobs/${job.id}/events`, { headers: auth(viewer.token), signal: abort.signal });
      expect(res.status).toBe(200);
    } finally {
      abort.abort();
    }
  });
});

describe('simulation ids', () => {
  it('GET /v1/simulations/meta (or any of the queue\'s own keys) is a 404, not the queue\'s metadata', async () => {
    const { app, cleanup } = await testApi(inject('redisUrl'));
    try {
      const input = JSON.parse(readFileSync('examples/simulate-cc-main-2023-50.json', 'utf8')) as unknown;
      const sub = await app.inject({ method: 'POST', url: '/v1/simulations', headers: auth(), payload: input });
      expect(sub.statusCode).toBe(202);
      expect((await app.inject({ method: 'GET', url: `/v1/simulations/${sub.json().id}`, headers: auth() })).statusCode).toBe(200);
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

  it('is https://, or plain http:// only to loopback', () => {
    for (const ok of ['https://kumo.example.com', 'https://10.0.0.2:8443', 'http://127.0.0.1:8080', 'http://127.3.4.5', 'http://localhost:8080', 'http://[::1]:8080']) {
      expect(env(ok).KUMO_CONTROL_URL, ok).toBe(ok);
    }
    for (const bad of ['http://10.0.0.2:8080', 'http://kumo.example.com', 'http://localhost.evil.example', 'http://128.0.0.1', 'http://[::2]', 'ftp://127.0.0.1']) {
      expect(() => env(bad), bad).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('KUMO_CONTROL_URL') }));
    }
  });
});
