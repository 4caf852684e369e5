import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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
