import { KumoError, type TaskLogSink } from '@kumo/shared';

/** Under the API's body limit (1 MiB), with room to spare. */
export const HTTP_LOG_SEGMENT_BYTES = 512 * 1024;

/**
 * An HTTPS worker's task log goes through the API (it holds no store credentials): each segment is a
 * PUT under the task's lease, which the API writes to its artifact store. Only the lease's holder may
 * write, and only while it holds the lease.
 */
export function httpLogSink(o: { controlUrl: string; token: string; leaseId: string }): TaskLogSink {
  const base = `${o.controlUrl}/v1/workers/leases/${encodeURIComponent(o.leaseId)}/log`;
  const send = async (method: 'PUT' | 'DELETE', url: string, body?: Buffer): Promise<void> => {
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${o.token}`, ...(body ? { 'content-type': 'application/octet-stream' } : {}) },
      ...(body ? { body: Uint8Array.from(body) } : {}),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new KumoError(res.status === 409 ? 'CONFLICT' : 'PROVIDER_UNAVAILABLE', `task log ${method}: HTTP ${res.status}`, { retryable: res.status >= 500, details: { status: res.status } });
  };
  return {
    clear: () => send('DELETE', base),
    put: (offset, body, last) => send('PUT', `${base}/${offset}${last ? '?last=true' : ''}`, body),
    remove: (offset, last) => send('DELETE', `${base}/${offset}${last ? '?last=true' : ''}`),
  };
}
