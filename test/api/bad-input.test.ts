import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auth, MINIMAL_SPEC, testApi } from '../support/api';

type Case = {
  name: string;
  status: number;
  code: string;
  payload?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  path?: (string | number)[];
};

const spec = (over: Record<string, unknown>): Record<string, unknown> => ({ ...MINIMAL_SPEC, ...over });
const source = (over: Record<string, unknown>): Record<string, unknown> =>
  spec({ source: { ...MINIMAL_SPEC.source, ...over } });

const CASES: Case[] = [
  {
    name: 'batches as a string',
    status: 400,
    code: 'INVALID_INPUT',
    payload: source({ batches: '90000' }),
    path: ['source', 'batches'],
  },
  { name: 'name as a number', status: 400, code: 'INVALID_INPUT', payload: spec({ name: 42 }), path: ['name'] },
  { name: 'empty name', status: 400, code: 'INVALID_INPUT', payload: spec({ name: '' }), path: ['name'] },
  {
    name: 'name of 129 characters',
    status: 400,
    code: 'INVALID_INPUT',
    payload: spec({ name: 'x'.repeat(129) }),
    path: ['name'],
  },
  {
    name: 'batches over 10,000,000',
    status: 400,
    code: 'INVALID_INPUT',
    payload: source({ batches: 10_000_001 }),
    path: ['source', 'batches'],
  },
  {
    name: 'batches huge',
    status: 400,
    code: 'INVALID_INPUT',
    payload: source({ batches: 1e308 }),
    path: ['source', 'batches'],
  },
  {
    name: 'batches zero',
    status: 400,
    code: 'INVALID_INPUT',
    payload: source({ batches: 0 }),
    path: ['source', 'batches'],
  },
  {
    name: 'batches fractional',
    status: 400,
    code: 'INVALID_INPUT',
    payload: source({ batches: 1.5 }),
    path: ['source', 'batches'],
  },
  { name: 'unknown kind', status: 400, code: 'INVALID_INPUT', payload: spec({ kind: 'mining' }), path: ['kind'] },
  { name: 'unknown field', status: 400, code: 'INVALID_INPUT', payload: spec({ colour: 'blue' }) },
  {
    name: 'run missing',
    status: 400,
    code: 'INVALID_INPUT',
    payload: { kind: 'extraction', name: 'x', source: MINIMAL_SPEC.source },
    path: ['run'],
  },
  {
    name: 'sleep without ms',
    status: 400,
    code: 'INVALID_INPUT',
    payload: spec({ run: { builtin: 'sleep' } }),
    path: ['run'],
  },
  { name: 'a JSON array', status: 400, code: 'INVALID_INPUT', payload: [1, 2] },
  { name: 'a JSON string', status: 400, code: 'INVALID_INPUT', raw: '"hello"' },
  { name: 'malformed JSON', status: 400, code: 'INVALID_JSON', raw: '{"kind": ' },
  { name: 'empty JSON body', status: 400, code: 'INVALID_JSON', raw: '' },
  {
    name: 'malformed YAML',
    status: 400,
    code: 'INVALID_INPUT',
    raw: 'kind: [unclosed',
    headers: { 'content-type': 'application/yaml' },
  },
  {
    name: 'YAML alias bomb',
    status: 400,
    code: 'INVALID_INPUT',
    raw: 'a: &a ["x","x"]\n' + Array.from({ length: 120 }, (_, i) => `b${i}: [*a, *a]`).join('\n'),
    headers: { 'content-type': 'application/yaml' },
  },
  {
    name: 'text/plain body',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    raw: 'hello',
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'a pool that does not exist',
    status: 400,
    code: 'INVALID_INPUT',
    payload: spec({ pool: 'nowhere' }),
    path: ['pool'],
  },
  {
    name: 'prototype pollution',
    status: 400,
    code: 'INVALID_JSON',
    raw: '{"__proto__": {"admin": true}, "kind": "extraction"}',
  },
];

describe('bad input gets a clear 4xx, never a 5xx, and the server stays up', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl')));
  });
  afterAll(() => cleanup());

  it.each(CASES)('$name -> $status $code', async (c) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth(), 'content-type': 'application/json', ...c.headers },
      payload: c.raw ?? JSON.stringify(c.payload),
    });
    expect(res.statusCode).toBe(c.status);
    const body = res.json();
    expect(body.error.code).toBe(c.code);
    expect(typeof body.error.message).toBe('string');
    if (c.path) expect(body.error.issues.map((i: { path: unknown }) => i.path)).toContainEqual(c.path);
  });

  it('a body over 1 MiB gets 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify(spec({ name: 'x', labels: { a: 'y'.repeat(1024 * 1024) } })),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('BODY_TOO_LARGE');
  });

  it('unknown ids are 404 with a code, malformed ones too', async () => {
    const bad = await app.inject({ method: 'GET', url: '/v1/jobs/%00%ff', headers: auth() });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_INPUT');
    for (const url of ['/v1/jobs/job_doesnotexist000000', '/v1/jobs/x/tasks', '/v1/pools/nope', '/v1/nothing']) {
      const res = await app.inject({ method: 'GET', url, headers: auth() });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toMatch(/NOT_FOUND$/);
    }
    const cancel = await app.inject({ method: 'POST', url: '/v1/jobs/job_nope/cancel', headers: auth() });
    expect(cancel.statusCode).toBe(404);
    const revoke = await app.inject({ method: 'DELETE', url: '/v1/tokens/tok_nope', headers: auth() });
    expect(revoke.statusCode).toBe(404);
    expect(revoke.json().error.code).toBe('TOKEN_NOT_FOUND');
  });

  it('missing, malformed or wrong tokens get 401; the probes need none', async () => {
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'Bearer' },
      { authorization: 'Basic abc' },
      { authorization: 'Bearer wrong-token' },
    ];
    for (const headers of cases) {
      const res = await app.inject({ method: 'GET', url: '/v1/jobs', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('roles: a viewer reads but cannot submit; a submitter cannot mint tokens or cancel others’ jobs', async () => {
    const mint = async (role: string, name: string): Promise<string> =>
      (await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(), payload: { role, name } })).json().token;
    const viewer = await mint('viewer', 'vera');
    const sub = await mint('submitter', 'sam');
    expect((await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(viewer) })).statusCode).toBe(200);
    const denied = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(viewer), payload: MINIMAL_SPEC });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('FORBIDDEN');
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/tokens',
          headers: auth(sub),
          payload: { role: 'admin', name: 'x' },
        })
      ).statusCode,
    ).toBe(403);
    const adminJob = (
      await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: MINIMAL_SPEC })
    ).json();
    expect(
      (await app.inject({ method: 'POST', url: `/v1/jobs/${adminJob.id}/cancel`, headers: auth(sub) })).statusCode,
    ).toBe(403);
    const own = (
      await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(sub), payload: MINIMAL_SPEC })
    ).json();
    expect(own.user).toBe('sam');
    expect(
      (await app.inject({ method: 'POST', url: `/v1/jobs/${own.id}/cancel`, headers: auth(sub) })).statusCode,
    ).toBe(200);
  });

  it('a revoked token stops working', async () => {
    const t = (
      await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: auth(),
        payload: { role: 'viewer', name: 'temp' },
      })
    ).json();
    expect((await app.inject({ method: 'DELETE', url: `/v1/tokens/${t.id}`, headers: auth() })).statusCode).toBe(204);
    await new Promise((r) => setTimeout(r, 2100)); // the lookup cache lives 2 s
    expect((await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(t.token) })).statusCode).toBe(401);
  });

  it('the server is still up and answering after all of it', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: MINIMAL_SPEC });
    expect(res.statusCode).toBe(201);
  });
});
