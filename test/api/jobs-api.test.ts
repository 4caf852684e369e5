import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { errorSchema, jobRecordSchema } from '@kumo/api';
import { auth, MINIMAL_SPEC, testApi } from '../support/api';

describe('jobs API', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl')));
  });
  afterAll(() => cleanup());

  it('accepts the minimal spec of the contract: 201, total 90000, counts add up', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: MINIMAL_SPEC });
    expect(res.statusCode).toBe(201);
    const job = res.json();
    expect(job.state).toBe('queued');
    expect(job.progress).toMatchObject({
      total: 90000,
      queued: 90000,
      running: 0,
      succeeded: 0,
      failed: 0,
      unit: 'batches',
      ratePerMinute: 0,
      etaSeconds: null,
    });
    const get = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: auth() });
    expect(get.statusCode).toBe(200);
    expect(get.json().id).toBe(job.id);
    // GET /v1/jobs/:id is serialized without a zod check per response (routes/schemas.ts): its answer
    // must be exactly the documented record, no field missing, none extra.
    expect(jobRecordSchema.strict().parse(get.json())).toEqual(get.json());
    // Job 404s keep the error shape.
    const missing = await app.inject({ method: 'GET', url: '/v1/jobs/job_nope', headers: auth() });
    expect(missing.statusCode).toBe(404);
    expect(errorSchema.strict().parse(missing.json()).error.code).toBe('JOB_NOT_FOUND');
  });

  it('accepts YAML with Content-Type: application/yaml', async () => {
    const yaml =
      'kind: extraction\nname: from-yaml\nsource:\n  snapshot: CC-MAIN-2023-50\n  batches: 12\n  \nbatchSize: 5\npool: local\nrun:\n  builtin: noop\n';
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth(), 'content-type': 'application/yaml' },
      payload: yaml,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().progress).toMatchObject({ total: 3, unit: 'tasks' });
  });

  it('returns the same job for a repeated Idempotency-Key', async () => {
    const headers = { ...auth(), 'idempotency-key': 'submit-1' };
    const a = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers,
      payload: { ...MINIMAL_SPEC, name: 'idem' },
    });
    const b = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers,
      payload: { ...MINIMAL_SPEC, name: 'idem' },
    });
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(200);
    expect(b.json().id).toBe(a.json().id);
    const c = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers,
      payload: { ...MINIMAL_SPEC, name: 'other' },
    });
    expect(c.statusCode).toBe(409);
    expect(c.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('lists newest first with cursor paging and filters', async () => {
    for (let i = 0; i < 3; i++)
      await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: auth(),
        payload: { ...MINIMAL_SPEC, name: `page-${i}`, kind: 'extraction' },
      });
    const p1 = await app.inject({ method: 'GET', url: '/v1/jobs?limit=2', headers: auth() });
    expect(p1.statusCode).toBe(200);
    const body1 = p1.json();
    expect(body1.jobs.map((j: { name: string }) => j.name)).toEqual(['page-2', 'page-1']);
    const p2 = await app.inject({ method: 'GET', url: `/v1/jobs?limit=2&cursor=${body1.nextCursor}`, headers: auth() });
    expect(p2.json().jobs[0].name).toBe('page-0');
    const none = await app.inject({ method: 'GET', url: '/v1/jobs?state=succeeded', headers: auth() });
    expect(none.json().jobs).toEqual([]);
    const bad = await app.inject({ method: 'GET', url: '/v1/jobs?state=bogus', headers: auth() });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues[0].path).toEqual(['querystring', 'state']);
  });

  it('cancels a job, and a second cancel is a 409', async () => {
    const job = (
      await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: auth(),
        payload: { ...MINIMAL_SPEC, name: 'to-cancel' },
      })
    ).json();
    const c1 = await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: auth() });
    expect(c1.statusCode).toBe(200);
    expect(c1.json().state).toBe('cancelled');
    const c2 = await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: auth() });
    expect(c2.statusCode).toBe(409);
    expect(c2.json().error.code).toBe('JOB_ALREADY_FINISHED');
  });

  it('serves a valid OpenAPI 3 document and open probes', async () => {
    const doc = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().openapi).toMatch(/^3\./);
    expect(Object.keys(doc.json().paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/pools', '/v1/tokens']),
    );
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });
});
