import { randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking the subset of the Compute Engine REST v1 API (JSON) that GceProvider uses through
 * @google-cloud/compute in REST ("fallback") mode: instances insert / get / delete / list, aggregated
 * instances, zone operations get / wait, and resource policies insert / get with region operations (compact
 * placement; an instance naming a policy that does not exist in its region is refused). Shapes follow the v1 discovery document: operations are
 * `compute#operation` with `status` PENDING|RUNNING|DONE and `error.errors[].code`; int64 and uint64
 * travel as strings; HTTP errors are `{error: {code, message, errors: [{domain, reason, message}]}}`.
 *
 * Faults: stockout(zone), quota(region, metric), failNext(status), slowOperations(ms), preempt(name).
 * Hooks: onInsert (an instance reached RUNNING: where a test boots the VM's worker) and onDelete (an
 * instance is gone: its worker powers off).
 * Unknown routes answer 404 and are kept in `unknownRoutes`, so a test sees when the client calls
 * something the fake does not know.
 */

export interface FakeInsert {
  project: string;
  zone: string;
  requestId: string | undefined;
  body: Record<string, any>;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface FailOptions {
  /** Which call the failure hits. Default 'any' (the next request of any kind). */
  route?: 'insert' | 'delete' | 'get' | 'list' | 'wait' | 'policy' | 'any';
  /** `errors[0].reason` in the body. Default: a reason that fits the status. */
  reason?: string;
  /** An ErrorInfo detail to add (`details[]`), as newer Compute errors carry. */
  errorInfo?: { reason: string; domain?: string; metadata?: Record<string, string> };
  /** Answer with an HTML page instead of JSON, as a front end does on 502. */
  html?: boolean;
  /** How many matching requests fail. Default 1. */
  times?: number;
}

export interface FakeComputeOptions {
  /** Longest a `wait` call holds before answering with a still-running operation. Default 200 ms. */
  waitHoldMs?: number;
  /** Items per page of list answers (to exercise paging). Default 500. */
  pageSize?: number;
}

export interface FakeCompute {
  /** `http://127.0.0.1:<port>`: what KUMO_COMPUTE_ENDPOINT takes. */
  endpoint: string;
  port: number;
  /** Every insert request body, in order (failed, repeated and refused ones too). */
  inserts: FakeInsert[];
  /** Every request, in order. */
  requests: FakeRequest[];
  /** Requests that matched no route. */
  unknownRoutes: string[];
  /** Resource policies that exist now (`regions/<region>/resourcePolicies/<name>` -> the resource). */
  resourcePolicies: Map<string, Record<string, any>>;
  /** Instances that exist now, as the API would return them. */
  instances(): Record<string, any>[];
  instance(name: string, zone?: string): Record<string, any> | undefined;
  /** Every insert in this zone ends with ZONE_RESOURCE_POOL_EXHAUSTED (code may be a variant). */
  stockout(zone: string, code?: string): void;
  restock(zone: string): void;
  /** The zone takes `n` more instances, then answers every insert with ZONE_RESOURCE_POOL_EXHAUSTED. */
  capacity(zone: string, n: number): void;
  /** Every insert in this region ends with QUOTA_EXCEEDED for `metric`. */
  quota(region: string, metric: string): void;
  clearQuota(region: string): void;
  /** The next matching request answers with this HTTP status. */
  failNext(status: number, opts?: FailOptions): void;
  /** The next matching request is handled normally but answered only after `ms` (a slow or stuck API). */
  stallNext(ms: number, route?: FailOptions['route']): void;
  /** Operations stay RUNNING for this long after they start. 0 = done at once. */
  slowOperations(ms: number): void;
  /** The platform reclaims a spot VM: it goes TERMINATED with a stop time. */
  preempt(name: string, zone?: string): void;
  /**
   * Calls `listener` each time an inserted instance reaches RUNNING (its insert operation DONE): the
   * moment a real VM would run its startup script. Returns a function that removes the listener.
   */
  onInsert(listener: (instance: Record<string, any>, zone: string) => void): () => void;
  /** Calls `listener` each time an instance is gone (its delete operation DONE). Returns a remover. */
  onDelete(listener: (name: string, zone: string) => void): () => void;
  /** What hook listeners threw (the fake keeps serving; a test asserts this stays empty). */
  hookErrors: unknown[];
  close(): Promise<void>;
}

interface Operation {
  json: Record<string, any>;
  doneAt: number;
  /** Applied once, when the operation reaches DONE. */
  effect?: () => void;
}

interface PendingFailure {
  status: number;
  opts: FailOptions;
  left: number;
}

const API = 'https://www.googleapis.com/compute/v1';

export async function startFakeCompute(options: FakeComputeOptions = {}): Promise<FakeCompute> {
  const waitHoldMs = options.waitHoldMs ?? 200;
  const pageSize = options.pageSize ?? 500;
  const instances = new Map<string, Record<string, any>>(); // `${project}/${zone}/${name}`
  const resourcePolicies = new Map<string, Record<string, any>>(); // `regions/${region}/resourcePolicies/${name}`
  const operations = new Map<string, Operation>(); // `${project}/${zone}/${opName}`
  const byRequestId = new Map<string, string>(); // `${project}/${requestId}` -> operation key
  const stockouts = new Map<string, string>();
  const capacityLeft = new Map<string, number>();
  const quotas = new Map<string, string>();
  const failures: PendingFailure[] = [];
  const stalls: Array<{ ms: number; route: FailOptions['route'] }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const inserts: FakeInsert[] = [];
  const requests: FakeRequest[] = [];
  const unknownRoutes: string[] = [];
  let slowMs = 0;
  const insertListeners = new Set<(instance: Record<string, any>, zone: string) => void>();
  const deleteListeners = new Set<(name: string, zone: string) => void>();
  const hookErrors: unknown[] = [];
  /** Runs hook listeners without letting one of them fail the request that triggered it. */
  const notify = <A extends unknown[]>(listeners: Set<(...a: A) => void>, ...args: A): void => {
    for (const l of listeners) {
      try {
        l(...args);
      } catch (err) {
        hookErrors.push(err);
      }
    }
  };
  let nextId = BigInt(randomInt(1_000_000, 9_000_000)) * 1_000_000_000n;

  const newId = (): string => String(nextId++);
  const now = (): string => new Date().toISOString();

  function settle(op: Operation): Record<string, any> {
    if (op.json.status !== 'DONE' && Date.now() >= op.doneAt) {
      op.json.status = 'DONE';
      op.json.progress = 100;
      op.json.endTime = now();
      op.effect?.();
    } else if (op.json.status === 'PENDING') {
      op.json.status = 'RUNNING';
    }
    return op.json;
  }

  function newOperation(
    project: string,
    zone: string,
    type: string,
    target: string,
    effect?: () => void,
    error?: object,
  ): Operation {
    const name = `operation-${Date.now()}-${newId().slice(-8)}`;
    const json: Record<string, any> = {
      kind: 'compute#operation',
      id: newId(),
      name,
      zone: `${API}/projects/${project}/zones/${zone}`,
      operationType: type,
      targetLink: `${API}/projects/${project}/zones/${zone}/instances/${target}`,
      targetId: newId(),
      status: 'PENDING',
      user: 'kumo-test@example.com',
      progress: 0,
      insertTime: now(),
      startTime: now(),
      selfLink: `${API}/projects/${project}/zones/${zone}/operations/${name}`,
    };
    if (error) Object.assign(json, error);
    const op: Operation = { json, doneAt: Date.now() + slowMs, effect };
    operations.set(`${project}/${zone}/${name}`, op);
    settle(op);
    return op;
  }

  /** A region operation (resource policies), done at once; kept where `wait` finds it. */
  function newRegionOperation(project: string, region: string, target: string, error?: object): Operation {
    const name = `operation-${Date.now()}-${newId().slice(-8)}`;
    const json: Record<string, any> = {
      kind: 'compute#operation',
      id: newId(),
      name,
      region: `${API}/projects/${project}/regions/${region}`,
      operationType: 'insert',
      targetLink: `${API}/projects/${project}/regions/${region}/resourcePolicies/${target}`,
      status: 'DONE',
      progress: 100,
      insertTime: now(),
      startTime: now(),
      endTime: now(),
      selfLink: `${API}/projects/${project}/regions/${region}/operations/${name}`,
      ...error,
    };
    const op: Operation = { json, doneAt: Date.now() };
    operations.set(`${project}/${region}/${name}`, op);
    return op;
  }

  function insertPolicy(
    project: string,
    region: string,
    query: Record<string, string>,
    body: Record<string, any>,
    res: http.ServerResponse,
  ): void {
    if (query.requestId) {
      const seen = byRequestId.get(`${project}/${query.requestId}`);
      const op = seen ? operations.get(seen) : undefined;
      if (op) return sendJson(res, 200, op.json);
    }
    const name = body.name;
    const g = body.groupPlacementPolicy;
    if (
      typeof name !== 'string' ||
      !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name) ||
      (g && g.collocation !== 'COLLOCATED' && g.collocation !== undefined)
    ) {
      return sendError(res, 400, 'invalid', 'Invalid value for field resource.name or resource.groupPlacementPolicy');
    }
    const key = `regions/${region}/resourcePolicies/${name}`;
    if (resourcePolicies.has(key))
      return sendError(res, 409, 'alreadyExists', `The resource 'projects/${project}/${key}' already exists`);
    resourcePolicies.set(key, {
      ...body,
      kind: 'compute#resourcePolicy',
      id: newId(),
      region: `${API}/projects/${project}/regions/${region}`,
      status: 'READY',
      selfLink: `${API}/projects/${project}/${key}`,
    });
    const op = newRegionOperation(project, region, name);
    if (query.requestId) byRequestId.set(`${project}/${query.requestId}`, `${project}/${region}/${op.json.name}`);
    sendJson(res, 200, op.json);
  }

  /** The policies an instance names that do not exist in its zone's region (the real API refuses such an insert). */
  function missingPolicies(zone: string, body: Record<string, any>): string[] {
    const region = zone.slice(0, zone.lastIndexOf('-'));
    const names: string[] = Array.isArray(body.resourcePolicies) ? body.resourcePolicies : [];
    return names.filter((url) => {
      const m = /regions\/([^/]+)\/resourcePolicies\/([^/]+)$/.exec(url);
      return !m || m[1] !== region || !resourcePolicies.has(`regions/${region}/resourcePolicies/${m[2]}`);
    });
  }

  function takeFailure(route: FailOptions['route']): PendingFailure | undefined {
    const i = failures.findIndex((f) => (f.opts.route ?? 'any') === 'any' || f.opts.route === route);
    if (i < 0) return undefined;
    const f = failures[i]!;
    if (--f.left <= 0) failures.splice(i, 1);
    return f;
  }

  function sendError(
    res: http.ServerResponse,
    status: number,
    reason: string,
    message: string,
    extra: FailOptions = {},
  ): void {
    if (extra.html) {
      res.writeHead(status, { 'content-type': 'text/html' }).end(`<html><body>Error ${status}</body></html>`);
      return;
    }
    const error: Record<string, any> = { code: status, message, errors: [{ message, domain: 'global', reason }] };
    if (extra.errorInfo) {
      error.details = [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: extra.errorInfo.reason,
          domain: extra.errorInfo.domain ?? 'compute.googleapis.com',
          metadata: extra.errorInfo.metadata ?? {},
        },
      ];
    }
    sendJson(res, status, { error });
  }

  function matchesFilter(inst: Record<string, any>, filter: string | undefined): boolean | 'invalid' {
    if (!filter || filter.trim() === '') return true;
    const terms = [...filter.matchAll(/labels\.([a-z0-9_-]+)\s*=\s*"?([a-z0-9_-]*)"?/g)];
    if (terms.length === 0) return 'invalid';
    return terms.every(([, key, value]) => inst.labels?.[key!] === value);
  }

  function insert(
    project: string,
    zone: string,
    query: Record<string, string>,
    body: Record<string, any>,
    res: http.ServerResponse,
  ): void {
    const requestId = query.requestId;
    inserts.push({ project, zone, requestId, body });
    if (requestId) {
      const seen = byRequestId.get(`${project}/${requestId}`);
      const op = seen ? operations.get(seen) : undefined;
      if (op) return sendJson(res, 200, settle(op));
    }
    const name = body.name;
    if (
      typeof name !== 'string' ||
      !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name) ||
      typeof body.machineType !== 'string'
    ) {
      return sendError(res, 400, 'invalid', 'Invalid value for field resource.name or resource.machineType');
    }
    const missing = missingPolicies(zone, body);
    if (missing.length > 0)
      return sendError(
        res,
        400,
        'invalid',
        `Invalid value for field 'resource.resourcePolicies': '${missing[0]}'. The resource policy does not exist in the instance's region.`,
      );
    const key = `${project}/${zone}/${name}`;
    if (instances.has(key)) {
      return sendError(
        res,
        409,
        'alreadyExists',
        `The resource 'projects/${project}/zones/${zone}/instances/${name}' already exists`,
      );
    }
    const region = zone.slice(0, zone.lastIndexOf('-'));
    let op: Operation;
    const stockoutCode =
      stockouts.get(zone) ?? (capacityLeft.get(zone) === 0 ? 'ZONE_RESOURCE_POOL_EXHAUSTED' : undefined);
    const quotaMetric = quotas.get(region);
    if (stockoutCode) {
      op = newOperation(project, zone, 'insert', name, undefined, {
        httpErrorStatusCode: 503,
        httpErrorMessage: 'SERVICE UNAVAILABLE',
        error: {
          errors: [
            {
              code: stockoutCode,
              message: `The zone 'projects/${project}/zones/${zone}' does not have enough resources available to fulfill the request.`,
            },
          ],
        },
      });
    } else if (quotaMetric) {
      op = newOperation(project, zone, 'insert', name, undefined, {
        httpErrorStatusCode: 403,
        httpErrorMessage: 'FORBIDDEN',
        error: {
          errors: [
            {
              code: 'QUOTA_EXCEEDED',
              message: `Quota '${quotaMetric}' exceeded.  Limit: 0.0 in region ${region}.`,
              errorDetails: [
                {
                  quotaInfo: {
                    metricName: quotaMetric,
                    limitName: `${quotaMetric}-per-project-region`,
                    dimensions: { region },
                    limit: 0,
                  },
                },
              ],
            },
          ],
        },
      });
    } else {
      const inst: Record<string, any> = {
        ...body,
        kind: 'compute#instance',
        id: newId(),
        creationTimestamp: now(),
        status: 'PROVISIONING',
        zone: `${API}/projects/${project}/zones/${zone}`,
        machineType: `${API}/projects/${project}/${body.machineType}`,
        selfLink: `${API}/projects/${project}/zones/${zone}/instances/${name}`,
      };
      instances.set(key, inst);
      const left = capacityLeft.get(zone);
      if (left !== undefined) capacityLeft.set(zone, left - 1);
      op = newOperation(project, zone, 'insert', name, () => {
        if (inst.status !== 'PROVISIONING') return;
        inst.status = 'RUNNING';
        notify(insertListeners, inst, zone);
      });
    }
    if (requestId) byRequestId.set(`${project}/${requestId}`, `${project}/${zone}/${op.json.name}`);
    sendJson(res, 200, op.json);
  }

  function remove(
    project: string,
    zone: string,
    name: string,
    query: Record<string, string>,
    res: http.ServerResponse,
  ): void {
    if (query.requestId) {
      const seen = byRequestId.get(`${project}/${query.requestId}`);
      const op = seen ? operations.get(seen) : undefined;
      if (op) return sendJson(res, 200, settle(op));
    }
    const key = `${project}/${zone}/${name}`;
    const inst = instances.get(key);
    if (!inst)
      return sendError(
        res,
        404,
        'notFound',
        `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`,
      );
    inst.status = 'STOPPING';
    const op = newOperation(project, zone, 'delete', name, () => {
      if (instances.delete(key)) notify(deleteListeners, name, zone);
    });
    if (query.requestId) byRequestId.set(`${project}/${query.requestId}`, `${project}/${zone}/${op.json.name}`);
    sendJson(res, 200, op.json);
  }

  function page(
    items: Record<string, any>[],
    query: Record<string, string>,
  ): { slice: Record<string, any>[]; next?: string } {
    const size = Math.min(Number(query.maxResults) || pageSize, pageSize);
    const start = Number(query.pageToken ?? 0) || 0;
    const slice = items.slice(start, start + size);
    return { slice, ...(start + size < items.length ? { next: String(start + size) } : {}) };
  }

  function listZone(project: string, zone: string, query: Record<string, string>, res: http.ServerResponse): void {
    const all = [...instances.entries()].filter(([k]) => k.startsWith(`${project}/${zone}/`)).map(([, v]) => v);
    const filtered = all.filter((i) => matchesFilter(i, query.filter) === true);
    if (all.some((i) => matchesFilter(i, query.filter) === 'invalid'))
      return sendError(res, 400, 'invalid', 'Invalid value for field filter');
    const { slice, next } = page(filtered, query);
    sendJson(res, 200, {
      kind: 'compute#instanceList',
      id: `projects/${project}/zones/${zone}/instances`,
      items: slice,
      ...(next ? { nextPageToken: next } : {}),
      selfLink: `${API}/projects/${project}/zones/${zone}/instances`,
    });
  }

  function aggregated(project: string, query: Record<string, string>, res: http.ServerResponse): void {
    if (query.filter && matchesFilter({}, query.filter) === 'invalid')
      return sendError(res, 400, 'invalid', 'Invalid value for field filter');
    const rows = [...instances.entries()]
      .filter(([k, v]) => k.startsWith(`${project}/`) && matchesFilter(v, query.filter) === true)
      .map(([k, v]) => ({ zone: k.split('/')[1]!, inst: v }));
    const { slice, next } = page(
      rows.map((r) => ({ ...r.inst, __zone: r.zone })),
      query,
    );
    const items: Record<string, any> = {};
    for (const inst of slice) {
      const scope = `zones/${inst.__zone}`;
      const { __zone, ...clean } = inst;
      void __zone;
      (items[scope] ??= { instances: [] }).instances.push(clean);
    }
    // Zones without matches come back with a warning instead of instances, as the real API does.
    items['zones/us-east1-b'] ??= {
      warning: {
        code: 'NO_RESULTS_ON_PAGE',
        message: 'There are no results for scope zones/us-east1-b on this page.',
        data: [{ key: 'scope', value: 'zones/us-east1-b' }],
      },
    };
    sendJson(res, 200, {
      kind: 'compute#instanceAggregatedList',
      id: `projects/${project}/aggregated/instances`,
      items,
      ...(next ? { nextPageToken: next } : {}),
      selfLink: `${API}/projects/${project}/aggregated/instances`,
    });
  }

  function wait(op: Operation, res: http.ServerResponse): void {
    const json = settle(op);
    if (json.status === 'DONE') return sendJson(res, 200, json);
    const hold = Math.max(0, Math.min(op.doneAt - Date.now(), waitHoldMs));
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) sendJson(res, 200, settle(op));
    }, hold + 1);
    timers.add(timer);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    const path = url.pathname;
    requests.push({ method, path, query });
    const raw = await readBody(req);
    const m = path.match(/^\/compute\/v1\/projects\/([^/]+)\/(.*)$/);
    const rest = m?.[2] ?? '';
    const project = m?.[1] ?? '';
    let route: FailOptions['route'] | undefined;
    let mm: RegExpMatchArray | null;
    if (method === 'POST' && (mm = rest.match(/^zones\/([^/]+)\/instances$/))) route = 'insert';
    else if (method === 'GET' && (mm = rest.match(/^zones\/([^/]+)\/instances\/([^/]+)$/))) route = 'get';
    else if (method === 'DELETE' && (mm = rest.match(/^zones\/([^/]+)\/instances\/([^/]+)$/))) route = 'delete';
    else if (method === 'GET' && (mm = rest.match(/^zones\/([^/]+)\/instances$/))) route = 'list';
    else if (method === 'GET' && (mm = rest.match(/^aggregated\/instances$/))) route = 'list';
    else if (
      (method === 'GET' || method === 'POST') &&
      (mm = rest.match(/^zones\/([^/]+)\/operations\/([^/]+?)(\/wait)?$/))
    )
      route = 'wait';
    else if (
      (method === 'GET' || method === 'POST') &&
      (mm = rest.match(/^regions\/([^/]+)\/operations\/([^/]+?)(\/wait)?$/))
    )
      route = 'wait';
    else if (method === 'POST' && (mm = rest.match(/^regions\/([^/]+)\/resourcePolicies$/))) route = 'policy';
    else if (method === 'GET' && (mm = rest.match(/^regions\/([^/]+)\/resourcePolicies\/([^/]+)$/))) route = 'policy';
    else mm = null;

    if (!m || !route || !mm) {
      unknownRoutes.push(`${method} ${path}`);
      return sendError(res, 404, 'notFound', `fake compute: no route for ${method} ${path}`);
    }
    const stall = stalls.findIndex((s) => (s.route ?? 'any') === 'any' || s.route === route);
    if (stall >= 0) {
      // The work happens now; only the answer is late (so a caller that gives up cannot know the outcome).
      const [held] = stalls.splice(stall, 1);
      holdAnswer(res, held!.ms, timers);
    }
    return handleRoute(route, mm, project, path, query, raw, res);
  }

  async function handleRoute(
    route: NonNullable<FailOptions['route']>,
    mm: RegExpMatchArray,
    project: string,
    path: string,
    query: Record<string, string>,
    raw: string,
    res: http.ServerResponse,
  ): Promise<void> {
    if (route === 'insert') {
      let body: Record<string, any>;
      try {
        body = JSON.parse(raw || '{}');
      } catch {
        return sendError(res, 400, 'parseError', 'This API does not support parsing form-encoded input.');
      }
      const zone = mm[1]!;
      const failure = takeFailure('insert');
      if (failure) {
        inserts.push({ project, zone, requestId: query.requestId, body });
        return sendError(
          res,
          failure.status,
          failure.opts.reason ?? reasonFor(failure.status),
          `injected ${failure.status}`,
          failure.opts,
        );
      }
      return insert(project, zone, query, body, res);
    }
    const failure = takeFailure(route);
    if (failure)
      return sendError(
        res,
        failure.status,
        failure.opts.reason ?? reasonFor(failure.status),
        `injected ${failure.status}`,
        failure.opts,
      );

    const zone = mm[1]!;
    switch (route) {
      case 'policy': {
        if (mm[2] === undefined) return insertPolicy(project, zone, query, JSON.parse(raw || '{}'), res);
        const policy = resourcePolicies.get(`regions/${zone}/resourcePolicies/${mm[2]}`);
        if (!policy)
          return sendError(
            res,
            404,
            'notFound',
            `The resource 'projects/${project}/regions/${zone}/resourcePolicies/${mm[2]}' was not found`,
          );
        return sendJson(res, 200, policy);
      }
      case 'get': {
        const inst = instances.get(`${project}/${zone}/${mm[2]}`);
        if (!inst)
          return sendError(
            res,
            404,
            'notFound',
            `The resource 'projects/${project}/zones/${zone}/instances/${mm[2]}' was not found`,
          );
        return sendJson(res, 200, inst);
      }
      case 'delete':
        return remove(project, zone, mm[2]!, query, res);
      case 'list':
        return path.includes('/aggregated/') ? aggregated(project, query, res) : listZone(project, zone, query, res);
      case 'wait': {
        const op = operations.get(`${project}/${zone}/${mm[2]}`);
        if (!op)
          return sendError(
            res,
            404,
            'notFound',
            `The resource 'projects/${project}/zones/${zone}/operations/${mm[2]}' was not found`,
          );
        if (mm[3]) return wait(op, res);
        return sendJson(res, 200, settle(op));
      }
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 500, message: String(err), errors: [{ reason: 'backendError' }] } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const findInstance = (name: string, zone?: string): Record<string, any> | undefined => {
    for (const [k, v] of instances) {
      const [, z, n] = k.split('/');
      if (n === name && (zone === undefined || z === zone)) return v;
    }
    return undefined;
  };

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    inserts,
    requests,
    unknownRoutes,
    resourcePolicies,
    instances: () => [...instances.values()],
    instance: findInstance,
    stockout: (zone, code = 'ZONE_RESOURCE_POOL_EXHAUSTED') => void stockouts.set(zone, code),
    restock: (zone) => {
      stockouts.delete(zone);
      capacityLeft.delete(zone);
    },
    capacity: (zone, n) => void capacityLeft.set(zone, n),
    quota: (region, metric) => void quotas.set(region, metric),
    clearQuota: (region) => void quotas.delete(region),
    failNext: (status, opts = {}) => void failures.push({ status, opts, left: opts.times ?? 1 }),
    stallNext: (ms, route) => void stalls.push({ ms, route }),
    slowOperations: (ms) => {
      slowMs = ms;
    },
    preempt: (name, zone) => {
      const inst = findInstance(name, zone);
      if (!inst) throw new Error(`fake compute: no instance ${name}`);
      inst.status = 'TERMINATED';
      inst.lastStopTimestamp = now();
    },
    onInsert: (listener) => {
      insertListeners.add(listener);
      return () => void insertListeners.delete(listener);
    },
    onDelete: (listener) => {
      deleteListeners.add(listener);
      return () => void deleteListeners.delete(listener);
    },
    hookErrors,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        // The client keeps sockets alive; without this, close waits for them to idle out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Buffers what the handler writes and sends it `ms` later. */
function holdAnswer(res: http.ServerResponse, ms: number, timers: Set<NodeJS.Timeout>): void {
  const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => http.ServerResponse;
  const end = res.end.bind(res) as (...a: unknown[]) => http.ServerResponse;
  const pending: Array<() => void> = [];
  let released = false;
  const hold =
    (fn: (...a: unknown[]) => http.ServerResponse) =>
    (...a: unknown[]): http.ServerResponse => {
      if (released) return fn(...a);
      pending.push(() => fn(...a));
      return res;
    };
  res.writeHead = hold(writeHead) as typeof res.writeHead;
  res.end = hold(end) as typeof res.end;
  const timer = setTimeout(() => {
    timers.delete(timer);
    released = true;
    if (!res.destroyed) for (const p of pending) p();
  }, ms);
  timers.add(timer);
}

function reasonFor(status: number): string {
  if (status === 403) return 'forbidden';
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rateLimitExceeded';
  if (status === 503) return 'backendError';
  return status >= 500 ? 'backendError' : 'invalid';
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
