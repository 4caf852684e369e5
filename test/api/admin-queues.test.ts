import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN, auth, testApi } from '../support/api';

describe('bull-board at /admin/queues, for admins only', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  let viewer: string;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl')));
    viewer = (
      await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: auth(),
        payload: { role: 'viewer', name: 'vera' },
      })
    ).json().token;
  });
  afterAll(() => cleanup());

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

  it('gives an admin the board’s HTML, a viewer 403, no token or a bad one 401', async () => {
    const ok = await get('/admin/queues', auth());
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toContain('text/html');
    expect(ok.body).toContain('kumo queues');
    const asViewer = await get('/admin/queues', auth(viewer));
    expect(asViewer.statusCode).toBe(403);
    expect(asViewer.json().error.code).toBe('FORBIDDEN');
    expect((await get('/admin/queues')).statusCode).toBe(401);
    expect((await get('/admin/queues', auth('not-a-token-at-all'))).json().error.code).toBe('UNAUTHENTICATED');
    // The board's JSON API and its static files sit behind the same check.
    expect((await get('/admin/queues/api/queues')).statusCode).toBe(401);
    expect((await get('/admin/queues/api/queues', auth(viewer))).statusCode).toBe(403);
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(ok.body)?.[1];
    expect(script).toBeDefined();
    expect((await get(`/admin/queues/${script}`, auth())).statusCode).toBe(200);
    expect((await get(`/admin/queues/${script}`)).statusCode).toBe(401);
  });

  it('turns ?token= into an HttpOnly, SameSite=Strict cookie on /admin and takes the token out of the address', async () => {
    const login = await get(`/admin/queues?token=${ADMIN}`);
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/admin/queues');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^kumo_admin=[^;]+; /);
    for (const attr of ['Path=/admin', 'HttpOnly', 'SameSite=Strict']) expect(setCookie).toContain(attr);
    const cookie = setCookie.split(';')[0]!;
    const queues = await get('/admin/queues/api/queues', { cookie });
    expect(queues.statusCode).toBe(200);
    expect(
      queues
        .json()
        .queues.map((q: { name: string }) => q.name)
        .sort(),
    ).toEqual(['simulations', 'tasks-local']);
    // A viewer's token cannot log in by link, nor by cookie.
    expect((await get(`/admin/queues?token=${viewer}`)).statusCode).toBe(403);
    expect((await get('/admin/queues', { cookie: `kumo_admin=${viewer}` })).statusCode).toBe(403);
  });

  it('shows a pool created later, and keeps the board out of /openapi.json', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/pools/a100',
      headers: auth(),
      payload: {
        machineType: 'a2-highgpu-1g',
        gpu: { type: 'nvidia-tesla-a100', count: 1 },
        spot: true,
        zones: ['us-central1-a'],
        min: 0,
        max: 2,
      },
    });
    expect(put.statusCode).toBe(201);
    const queues = await get('/admin/queues/api/queues', auth());
    expect(queues.json().queues.map((q: { name: string }) => q.name)).toContain('tasks-a100');
    const paths = Object.keys((await get('/openapi.json')).json().paths);
    expect(paths.filter((p) => p.startsWith('/admin'))).toEqual([]);
  });
});
