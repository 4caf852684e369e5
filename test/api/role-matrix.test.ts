import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auth, MINIMAL_SPEC, testApi } from '../support/api';

/** Who asks: the four roles (the worker token scoped to pool `local`), no token, and a token nobody minted. */
const CALLERS = ['admin', 'submitter', 'viewer', 'worker', 'none', 'wrong'] as const;
type Caller = (typeof CALLERS)[number];

const OPEN: readonly Caller[] = CALLERS;
const ADMIN: readonly Caller[] = ['admin'];
const READERS: readonly Caller[] = ['admin', 'submitter', 'viewer'];
const SUBMITTERS: readonly Caller[] = ['admin', 'submitter'];
const WORKERS: readonly Caller[] = ['admin', 'worker'];

/**
 * The design, one row per route (or family of routes): which callers get through. Everyone else gets
 * 401 (no or unknown token) or 403 (a role the route does not admit). GET rows cover HEAD too. A route
 * the app serves that no row matches fails the test: a new route must be placed here on purpose.
 */
const MATRIX: { methods: string[]; path: RegExp; allowed: readonly Caller[]; why: string }[] = [
  { methods: ['GET'], path: /^\/(healthz|readyz)$/, allowed: OPEN, why: 'probes carry no token' },
  { methods: ['GET'], path: /^\/$|^\/ui\/\*$/, allowed: OPEN, why: 'the dashboard’s static files hold no data' },
  { methods: ['GET'], path: /^\/docs(\/.*)?$|^\/openapi\.json$/, allowed: OPEN, why: 'the API’s own description' },
  { methods: ['POST'], path: /^\/v1\/jobs$/, allowed: SUBMITTERS, why: 'submit' },
  {
    methods: ['GET'],
    path: /^\/v1\/jobs(\/:id(\/(results|tasks|events|evaluations|contributors))?)?$/,
    allowed: READERS,
    why: 'read jobs',
  },
  { methods: ['GET'], path: /^\/v1\/contributors$/, allowed: READERS, why: 'the team’s contributors table' },
  { methods: ['GET'], path: /^\/v1\/jobs\/:id\/tasks\/:index\/log$/, allowed: READERS, why: 'read a task’s log' },
  { methods: ['POST'], path: /^\/v1\/jobs\/:id\/(cancel|pause|resume)$/, allowed: SUBMITTERS, why: 'change own jobs' },
  { methods: ['POST'], path: /^\/v1\/jobs\/:id\/rerun$/, allowed: SUBMITTERS, why: 'rerun own jobs (a new job)' },
  { methods: ['PATCH'], path: /^\/v1\/jobs\/:id$/, allowed: SUBMITTERS, why: 'change own job’s budget' },
  { methods: ['DELETE'], path: /^\/v1\/jobs\/:id$/, allowed: SUBMITTERS, why: 'delete own ended jobs' },
  { methods: ['GET'], path: /^\/v1\/pools(\/:name)?$/, allowed: READERS, why: 'read pools' },
  { methods: ['PUT'], path: /^\/v1\/pools\/:name$/, allowed: ADMIN, why: 'pools cost money' },
  { methods: ['POST'], path: /^\/v1\/tokens$/, allowed: ADMIN, why: 'mint' },
  { methods: ['DELETE'], path: /^\/v1\/tokens\/:id$/, allowed: ADMIN, why: 'revoke' },
  { methods: ['GET'], path: /^\/v1\/users\/:name$/, allowed: READERS, why: 'read a user’s shares' },
  { methods: ['PUT'], path: /^\/v1\/users\/:name$/, allowed: ADMIN, why: 'shares decide who gets the GPUs' },
  { methods: ['GET'], path: /^\/v1\/users\/:name\/budget$/, allowed: READERS, why: 'read a user’s spend' },
  { methods: ['PUT'], path: /^\/v1\/users\/:name\/budget$/, allowed: ADMIN, why: 'budgets are money' },
  { methods: ['GET'], path: /^\/v1\/spend(\.csv)?$/, allowed: READERS, why: 'read the month’s bill' },
  { methods: ['GET'], path: /^\/v1\/team\/budget$/, allowed: READERS, why: 'read the team’s monthly budget' },
  { methods: ['PUT'], path: /^\/v1\/team\/budget$/, allowed: ADMIN, why: 'budgets are money' },
  { methods: ['POST'], path: /^\/v1\/(simulations|pipelines)$/, allowed: SUBMITTERS, why: 'submit' },
  { methods: ['GET'], path: /^\/v1\/(simulations|pipelines)\/:id$/, allowed: READERS, why: 'read' },
  {
    methods: ['POST'],
    path: /^\/v1\/workers\/(lease|heartbeat|progress|complete)$/,
    allowed: WORKERS,
    why: 'the HTTPS worker protocol',
  },
  {
    methods: ['PUT', 'DELETE'],
    path: /^\/v1\/workers\/leases\/:leaseId\/log\/:offset$/,
    allowed: WORKERS,
    why: 'an HTTPS worker writes its leased task’s log',
  },
  { methods: ['GET'], path: /^\/metrics$/, allowed: READERS, why: 'a scraper carries a viewer token' },
  {
    methods: ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'],
    path: /^\/admin\/queues(\/.*)?$/,
    allowed: ADMIN,
    why: 'bull-board can retry, clean and obliterate queues',
  },
];

function rowFor(method: string, url: string): (typeof MATRIX)[number] | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return MATRIX.find((r) => r.methods.includes(m) && r.path.test(url));
}

describe('every route × every role, as designed', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  const tokens: Record<Caller, string | undefined> = {
    admin: undefined,
    submitter: undefined,
    viewer: undefined,
    worker: undefined,
    none: undefined,
    wrong: 'kumo_0000000000000000000000000000000000000000',
  };
  let values: Record<string, string>;

  beforeAll(async () => {
    ({ app, cleanup } = await testApi(inject('redisUrl'), { limits: { ratePerMinute: 0 } }));
    tokens.admin = auth().authorization!.slice('Bearer '.length);
    const mint = async (body: Record<string, unknown>): Promise<{ id: string; token: string }> => {
      const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(), payload: body });
      expect(res.statusCode).toBe(201);
      return res.json();
    };
    tokens.submitter = (await mint({ role: 'submitter', name: 'matrix-submitter' })).token;
    tokens.viewer = (await mint({ role: 'viewer', name: 'matrix-viewer' })).token;
    tokens.worker = (await mint({ role: 'worker', name: 'matrix-worker', pool: 'local' })).token;
    const spare = await mint({ role: 'viewer', name: 'to-revoke' });
    // The submitter's own job, already ended: every job route answers at once (the event stream ends
    // straight away) and a submitter passes the ownership check, so a refusal can only be the role's.
    const sub = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth(tokens.submitter),
      payload: MINIMAL_SPEC,
    });
    expect(sub.statusCode).toBe(201);
    expect(
      (await app.inject({ method: 'POST', url: `/v1/jobs/${sub.json().id}/cancel`, headers: auth(tokens.submitter) }))
        .statusCode,
    ).toBe(200);
    values = {
      id: sub.json().id,
      name: 'local',
      queueName: 'local',
      jobId: '1',
      queueStatus: 'failed',
      schedulerId: 'none',
      '*': 'x',
    };
    values.tokenId = spare.id;
  });
  afterAll(() => cleanup());

  it('has a row for every route the app serves', () => {
    const routes = app.routeInventory;
    expect(routes.length).toBeGreaterThan(40);
    const uncovered = routes.filter((r) => !rowFor(r.method, r.url)).map((r) => `${r.method} ${r.url}`);
    expect(uncovered, 'routes with no row in MATRIX').toEqual([]);
    // And every row still matches a route: a stale row is a design that no longer holds.
    const unused = MATRIX.filter((row) => !routes.some((r) => rowFor(r.method, r.url) === row)).map(
      (r) => r.path.source,
    );
    expect(unused).toEqual([]);
  });

  it('lets each caller through exactly where the design says, and refuses with 401/403 elsewhere', async () => {
    const fill = (url: string): string =>
      url
        .replace(/^\/v1\/tokens\/:id$/, `/v1/tokens/${values.tokenId}`)
        .replace(/:([A-Za-z]+)/g, (_m, k: string) => encodeURIComponent(values[k] ?? 'x'))
        .replace(/\*$/, url.startsWith('/ui/') ? 'app.js' : 'x');
    const failures: string[] = [];
    let cases = 0;
    // DELETE /v1/tokens/:id last for admin: it revokes the spare token, which no other case uses.
    const routes = [...app.routeInventory].sort(
      (a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'),
    );
    for (const route of routes) {
      const row = rowFor(route.method, route.url)!;
      for (const caller of CALLERS) {
        const token = tokens[caller];
        const res = await app.inject({
          method: route.method as 'GET',
          url: fill(route.url),
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { 'content-type': 'application/json' } : {}),
          },
          ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { payload: '{}' } : {}),
        });
        cases++;
        const allowed = row.allowed.includes(caller);
        const expected = allowed ? 'through' : caller === 'none' || caller === 'wrong' ? 401 : 403;
        const got = res.statusCode === 401 || res.statusCode === 403 ? res.statusCode : 'through';
        if (got !== expected)
          failures.push(
            `${route.method} ${route.url} as ${caller}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 120)}`,
          );
        if (res.statusCode >= 500) failures.push(`${route.method} ${route.url} as ${caller}: ${res.statusCode}`);
        if (!allowed && got === expected && route.method !== 'HEAD') {
          const body = JSON.parse(res.body) as { error?: { code?: string } };
          if (body.error?.code !== (expected === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN'))
            failures.push(`${route.method} ${route.url} as ${caller}: error body ${res.body.slice(0, 120)}`);
        }
      }
    }
    console.log(`role matrix: ${app.routeInventory.length} routes x ${CALLERS.length} callers = ${cases} cases`);
    expect(failures).toEqual([]);
  });
});
