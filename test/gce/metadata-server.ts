import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the GCE metadata server's `instance/preempted` value, for many VMs at once:
 * VM `name` is served under `/vm/<name>` (its base URL is `urlFor(name)`), and the bare root serves the
 * VM named ''. As the real server: requests without `Metadata-Flavor: Google` get 403; the answer is
 * `TRUE` or `FALSE` (text/plain) with an ETag; `wait_for_change=true` holds the request until the value
 * changes from `last_etag` (or from the current value when none is given) or `timeout_sec` passes.
 *
 * Knobs: `etags: false` answers without an ETag (a server the client must poll), `hold: false` answers
 * wait_for_change at once (a server or proxy that does not hold), `failNext(status)`.
 */

export interface FakeMetadataRequest {
  vm: string;
  query: Record<string, string>;
  flavor: string | undefined;
}

export interface FakeMetadata {
  /** The root's base URL (the VM named ''). */
  url: string;
  urlFor(vm: string): string;
  setPreempted(vm: string, preempted: boolean): void;
  requests: FakeMetadataRequest[];
  /** Requests held open now (wait_for_change). */
  held(): number;
  /** The next `times` requests answer `status` with `body`. */
  failNext(status: number, opts?: { times?: number; body?: string }): void;
  close(): Promise<void>;
}

const PATH = /^(?:\/vm\/([^/]+))?\/computeMetadata\/v1\/instance\/preempted$/;

export async function startFakeMetadata(opts: { etags?: boolean; hold?: boolean } = {}): Promise<FakeMetadata> {
  const etags = opts.etags ?? true;
  const hold = opts.hold ?? true;
  const values = new Map<string, { preempted: boolean; version: number }>();
  const waiters = new Map<string, Set<() => void>>();
  const failures: { status: number; body: string; left: number }[] = [];
  const requests: FakeMetadataRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const valueOf = (vm: string): { preempted: boolean; version: number } =>
    values.get(vm) ?? { preempted: false, version: 0 };
  const etagOf = (vm: string): string => {
    const v = valueOf(vm);
    return `${v.preempted ? 't' : 'f'}${v.version.toString(16).padStart(8, '0')}`;
  };

  function answer(res: http.ServerResponse, vm: string): void {
    if (res.destroyed) return;
    const headers: Record<string, string> = { 'content-type': 'application/text', 'metadata-flavor': 'Google' };
    if (etags) headers.etag = etagOf(vm);
    res.writeHead(200, headers).end(valueOf(vm).preempted ? 'TRUE' : 'FALSE');
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metadata');
    const m = url.pathname.match(PATH);
    const query = Object.fromEntries(url.searchParams.entries());
    const flavor = req.headers['metadata-flavor'] as string | undefined;
    const vm = decodeURIComponent(m?.[1] ?? '');
    requests.push({ vm, query, flavor });
    const failure = failures[0];
    if (failure) {
      if (--failure.left <= 0) failures.shift();
      res.writeHead(failure.status, { 'content-type': 'text/html' }).end(failure.body);
      return;
    }
    if (!m) return void res.writeHead(404, { 'content-type': 'text/html' }).end('Not Found');
    if (flavor !== 'Google')
      return void res.writeHead(403, { 'content-type': 'text/html' }).end('Missing Metadata-Flavor:Google header.');
    if (query.wait_for_change !== 'true' || !hold) return answer(res, vm);
    const since = query.last_etag ?? etagOf(vm);
    if (since !== etagOf(vm)) return answer(res, vm);
    const timeoutMs = Math.max(1, Number(query.timeout_sec ?? 300)) * 1000;
    const wake = (): void => {
      clearTimeout(timer);
      timers.delete(timer);
      waiters.get(vm)?.delete(wake);
      answer(res, vm);
    };
    const timer = setTimeout(wake, timeoutMs);
    timers.add(timer);
    let set = waiters.get(vm);
    if (!set) waiters.set(vm, (set = new Set()));
    set.add(wake);
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
      waiters.get(vm)?.delete(wake);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: base,
    urlFor: (vm) => `${base}/vm/${encodeURIComponent(vm)}`,
    setPreempted: (vm, preempted) => {
      const v = valueOf(vm);
      if (v.preempted === preempted) return;
      values.set(vm, { preempted, version: v.version + 1 });
      for (const wake of [...(waiters.get(vm) ?? [])]) wake();
    },
    requests,
    held: () => [...waiters.values()].reduce((n, s) => n + s.size, 0),
    failNext: (status, o = {}) =>
      void failures.push({ status, body: o.body ?? `<html>error ${status}</html>`, left: o.times ?? 1 }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
