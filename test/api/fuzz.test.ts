import { connect } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auth, testApi } from '../support/api';

/**
 * Generated input against the API: every answer is a 2xx, or a 4xx in our error shape; never a 5xx,
 * never a crash. fast-check prints the seed and the shrunk case of any failure, so it can be replayed.
 */

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** What every answer must be. Returns what is wrong, or undefined. */
function judge(method: string, a: Answer): string | undefined {
  if (a.status >= 500) return `a ${a.status}: ${a.body.slice(0, 300)}`;
  if (a.status < 400 || method === 'HEAD') return undefined;
  if (!a.contentType.includes('application/json'))
    return `a ${a.status} that is not JSON (${a.contentType}): ${a.body.slice(0, 200)}`;
  let body: { error?: { code?: unknown; message?: unknown; issues?: unknown } };
  try {
    body = JSON.parse(a.body) as typeof body;
  } catch {
    return `a ${a.status} whose body is not JSON: ${a.body.slice(0, 200)}`;
  }
  if (typeof body.error?.code !== 'string' || !/^[A-Z_]+$/.test(body.error.code))
    return `a ${a.status} without a code: ${a.body.slice(0, 200)}`;
  if (typeof body.error.message !== 'string') return `a ${a.status} without a message: ${a.body.slice(0, 200)}`;
  if (body.error.issues !== undefined && !Array.isArray(body.error.issues))
    return `issues that are not a list: ${a.body.slice(0, 200)}`;
  return undefined;
}

// ---- job specs: valid-ish and broken ----

const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    'CC-MAIN-2023-50',
    '日本語のテキスト',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    '\u0000',
    '\ud800',
    '__proto__',
    'constructor',
    ' ',
    'x'.repeat(129),
    '𠮷野家',
  ),
);
const weirdNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -1,
    1,
    1.5,
    10_000_000,
    10_000_001,
    2 ** 53,
    -(2 ** 53),
    1e308,
    -1e308,
    Number.MIN_VALUE,
    4_294_967_296,
  ),
);
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdString,
  weirdNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A nest of objects or arrays `depth` deep: parsers and validators must not fall over on it. */
const deepNest = fc.integer({ min: 50, max: 1000 }).chain((depth) =>
  fc.boolean().map((arr) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = arr ? [v] : { a: v };
    return v;
  }),
);

/** Nesting far deeper than any stringifier here could build: written as text. */
const deepText = fc
  .tuple(fc.integer({ min: 1000, max: 100_000 }), fc.constantFrom('labels', 'source', 'run', 'env'), fc.boolean())
  .map(([depth, field, arr]) => ({
    type: 'application/json',
    body: `{"kind":"extraction","name":"deep","pool":"local","${field}":${arr ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)}}`,
  }));

/** A long array that stays under the 1 MiB body limit. */
const hugeArray = fc
  .integer({ min: 1000, max: 30_000 })
  .map((n) => Array.from({ length: n }, (_, i) => `CC-MAIN-2023-50/segments/${i}.warc.gz`));

const validSpec = fc.record({
  kind: fc.constant('extraction'),
  name: fc.string({ minLength: 1, maxLength: 128 }),
  source: fc.record({
    snapshot: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
    batches: fc.integer({ min: 1, max: 10_000_000 }),
  }),
  pool: fc.constant('local'),
  run: fc.oneof(
    fc.constant({ builtin: 'noop' }),
    fc.record({ builtin: fc.constant('sleep'), ms: fc.integer({ min: 0, max: 1000 }) }),
  ),
});

/** One field of a valid spec replaced, removed or added, at any depth the spec has. */
const mutatedSpec = fc
  .tuple(
    validSpec,
    fc.constantFrom(
      'kind',
      'name',
      'source',
      'source.batches',
      'source.snapshot',
      'source.paths',
      'pool',
      'run',
      'run.ms',
      'retry',
      'labels',
      'env',
      'priority',
      'timeoutSeconds',
      'dependsOn',
      'batchSize',
      'extra',
    ),
    fc.oneof(weirdValue, deepNest, hugeArray, fc.constant(undefined)),
  )
  .map(([spec, path, value]) => {
    const copy = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
    const [head, tail] = path.split('.') as [string, string | undefined];
    if (tail === undefined) copy[head] = value;
    else copy[head] = { ...((copy[head] as Record<string, unknown>) ?? {}), [tail]: value };
    return copy;
  });

const anySpec = fc.oneof(
  { weight: 2, arbitrary: validSpec as fc.Arbitrary<unknown> },
  { weight: 5, arbitrary: mutatedSpec },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 4 }) },
  { weight: 1, arbitrary: deepNest },
  { weight: 1, arbitrary: hugeArray },
);

/** How the body goes over the wire: JSON, YAML, or raw bytes under some content type. */
const encodedBody = fc.oneof(
  { weight: 1, arbitrary: deepText },
  { weight: 5, arbitrary: anySpec.map((v) => ({ type: 'application/json', body: JSON.stringify(v) ?? 'undefined' })) },
  { weight: 2, arbitrary: anySpec.map((v) => ({ type: 'application/yaml', body: safeYaml(v) })) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constantFrom(
        'application/json',
        'application/yaml',
        'text/yaml',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/json; charset=latin1',
        '',
        'garbage',
      ),
      body: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom('{', '[]', 'null', '{"kind":', 'a: &a [*a]', '!!js/function "x"', '---\n- - - -', '\ufeff{}'),
      ),
    }),
  },
);

function safeYaml(v: unknown): string {
  try {
    return toYaml(v, { aliasDuplicateObjects: false }) ?? '';
  } catch {
    return String(v);
  }
}

// ---- requests: random paths, methods, headers, query strings ----

const segment = fc.oneof(
  fc.constantFrom(
    'v1',
    'jobs',
    'pools',
    'tokens',
    'simulations',
    'pipelines',
    'workers',
    'lease',
    'events',
    'cancel',
    'pause',
    'resume',
    'tasks',
    'results',
    'metrics',
    'healthz',
    'readyz',
    'docs',
    'openapi.json',
    'ui',
    'admin',
    'queues',
    'local',
    '..',
    '.',
    '%2e%2e',
    '%00',
    '%ff',
    '%',
    '%zz',
    '',
    'j_01HZX',
    '日本',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join('/')}`);
const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.constantFrom('state', 'kind', 'pool', 'user', 'limit', 'cursor', 'token', 'x', 'limit[]', '__proto__'),
      fc.oneof(weirdString, weirdNumber.map(String)),
      { maxKeys: 4 },
    )
    .map((d) => `?${new URLSearchParams(d as Record<string, string>).toString()}`),
  fc.constantFrom(
    '?',
    '?&&',
    '?limit=-1',
    '?limit=1e9',
    '?limit=abc',
    '?state=running&state=queued',
    '?cursor=%00',
    '?a=%E0%A4%A',
  ),
);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,64}$/);
const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'idempotency-key',
    'x-request-id',
    'accept',
    'accept-encoding',
    'if-none-match',
    'origin',
    'cookie',
    'x-forwarded-for',
    'content-encoding',
    'range',
  ),
  headerValue,
  { maxKeys: 3 },
);
const who = fc.constantFrom('admin', 'viewer', 'none', 'wrong', 'malformed');

const request = fc.record({
  method,
  path,
  query,
  headers: extraHeaders,
  who,
  body: fc.option(encodedBody, { freq: 2 }),
});

describe('fuzzed job specs and requests: 2xx or a clear 4xx, never a 5xx, never a crash', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  let viewer: string;
  let cases = 0;

  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl'), { limits: { ratePerMinute: 0 } }));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: auth(),
      payload: { role: 'viewer', name: 'fuzz' },
    });
    viewer = res.json().token;
  });
  afterAll(async () => {
    console.log(`fuzz: ${cases} cases run`);
    await cleanup();
  });

  const authFor = (w: string): Record<string, string> =>
    w === 'admin'
      ? auth()
      : w === 'viewer'
        ? auth(viewer)
        : w === 'wrong'
          ? auth('kumo_wrong')
          : w === 'malformed'
            ? { authorization: 'Bearer' }
            : {};

  it('POST /v1/jobs with generated specs (JSON, YAML, raw)', async () => {
    await fc.assert(
      fc.asyncProperty(encodedBody, async ({ type, body }) => {
        cases++;
        const res = await app.inject({
          method: 'POST',
          url: '/v1/jobs',
          headers: { ...auth(), ...(type ? { 'content-type': type } : {}) },
          payload: body,
        });
        const wrong = judge('POST', {
          status: res.statusCode,
          contentType: String(res.headers['content-type'] ?? ''),
          body: res.body,
        });
        if (wrong) throw new Error(`${wrong}\nsent ${type}: ${body.slice(0, 300)}`);
        if (res.statusCode === 201) expect(res.json().progress.total).toBeGreaterThan(0);
      }),
      { numRuns: 600 },
    );
  });

  it('valid specs are always accepted (201) with total = batches', async () => {
    await fc.assert(
      fc.asyncProperty(validSpec, async (spec) => {
        cases++;
        const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(), payload: spec });
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json().progress.total).toBe(spec.source.batches);
      }),
      { numRuns: 200 },
    );
  });

  it('random methods, paths, query strings, headers and bodies', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        cases++;
        const url = `${r.path}${r.query}`;
        const res = await app.inject({
          method: r.method as 'GET',
          url,
          headers: { ...r.headers, ...authFor(r.who), ...(r.body ? { 'content-type': r.body.type } : {}) },
          ...(r.body && !['GET', 'HEAD'].includes(r.method) ? { payload: r.body.body } : {}),
        });
        const wrong = judge(r.method, {
          status: res.statusCode,
          contentType: String(res.headers['content-type'] ?? ''),
          body: res.body,
        });
        if (wrong) throw new Error(`${wrong}\n${r.method} ${url} as ${r.who}`);
      }),
      { numRuns: 1200 },
    );
  });

  it('a few hundred of them over real HTTP, plus malformed HTTP on a raw socket; the server stays up', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const a = app.server.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    const base = `http://127.0.0.1:${port}`;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        cases++;
        const url = `${base}${r.path}${r.query}`;
        const hasBody = r.body && !['GET', 'HEAD'].includes(r.method);
        const res = await fetch(url, {
          method: r.method,
          headers: { ...r.headers, ...authFor(r.who), ...(hasBody ? { 'content-type': r.body!.type } : {}) },
          ...(hasBody ? { body: r.body!.body } : {}),
        });
        const wrong = judge(r.method, {
          status: res.status,
          contentType: res.headers.get('content-type') ?? '',
          body: await res.text(),
        });
        if (wrong) throw new Error(`${wrong}\n${r.method} ${url} as ${r.who}`);
      }),
      { numRuns: 300 },
    );

    const raw = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
      'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'GET /\x00 HTTP/1.1\r\n\r\n',
      `GET / HTTP/1.1\r\n${'X-A: b\r\n'.repeat(3000)}\r\n`,
    ];
    for (const text of raw) {
      cases++;
      const answer = await new Promise<string>((resolve) => {
        let got = '';
        const s = connect(port, '127.0.0.1', () => s.write(text));
        s.on('data', (b) => (got += b.toString()));
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
        setTimeout(() => s.destroy(), 2000).unref();
      });
      // Node's parser answers malformed HTTP itself with a bare 4xx; what matters is no 5xx and no crash.
      expect(answer === '' || /^HTTP\/1\.1 4\d\d/.test(answer), answer.slice(0, 100)).toBe(true);
    }
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
  });
});
