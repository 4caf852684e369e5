/** A tiny JSON client for tests that talk to a real listening server over HTTP. */
export function client(baseUrl: string, token: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body),
    put: (path: string, body?: unknown) => call('PUT', path, body),
    patch: (path: string, body?: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

export interface ProgressLike {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  /** Tasks a skip left out; absent in answers from before skips. */
  skipped?: number;
}

/** The contract's invariant, checked at every poll. */
export function addsUp(p: ProgressLike): boolean {
  return (
    p.queued + p.running + p.succeeded + p.failed + (p.skipped ?? 0) === p.total && p.queued >= 0 && p.running >= 0
  );
}
