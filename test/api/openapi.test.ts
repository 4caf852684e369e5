import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testApi } from '../support/api';

/**
 * Every route the app serves, from Fastify's own route tree (`printRoutes`): each line is one path
 * segment, indented four characters per level, with its methods.
 */
function servedRoutes(app: FastifyInstance): { path: string; method: string }[] {
  const out: { path: string; method: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) out.push({ path, method });
  }
  return out;
}

/** Fastify's `/v1/jobs/:id` as OpenAPI writes it: `/v1/jobs/{id}`. */
const toOpenApi = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('/openapi.json', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  let doc: { paths: Record<string, Record<string, { summary?: string; responses?: Record<string, unknown> }>> };
  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl')));
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });
  afterAll(() => cleanup());

  it('is a valid OpenAPI 3 document (swagger-parser validates it, $refs and all)', async () => {
    // validate() dereferences in place: give it a copy, keep ours as served.
    const api = await SwaggerParser.validate(structuredClone(doc) as never);
    expect((api as { openapi?: string }).openapi).toMatch(/^3\./);
  });

  it('lists every public /v1 route the app serves, each with a summary and a success response', () => {
    const served = servedRoutes(app).filter((r) => r.path.startsWith('/v1/') && r.method !== 'HEAD');
    // The route tree parse itself is checked: these are in the public contract (docs/jobs.md).
    for (const must of ['POST /v1/jobs', 'GET /v1/jobs/:id/events', 'PUT /v1/pools/:name', 'DELETE /v1/tokens/:id'])
      expect(served.map((r) => `${r.method} ${r.path}`)).toContain(must);
    const problems: string[] = [];
    for (const { path, method } of served) {
      const op = doc.paths[toOpenApi(path)]?.[method.toLowerCase()];
      if (!op) problems.push(`${method} ${path}: missing`);
      else if (!op.summary?.trim()) problems.push(`${method} ${path}: no summary`);
      else if (!Object.keys(op.responses ?? {}).some((code) => /^2\d\d$/.test(code)))
        problems.push(`${method} ${path}: no 2xx response`);
    }
    expect(problems).toEqual([]);
  });

  it('documents nothing the app does not serve, and none of the private routes', () => {
    const served = new Set(servedRoutes(app).map((r) => `${r.method.toLowerCase()} ${toOpenApi(r.path)}`));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.filter((d) => !served.has(d))).toEqual([]);
    expect(documented.filter((d) => / \/(admin|metrics|healthz|readyz|docs|ui)\b/.test(d))).toEqual([]);
  });
});
