import { KumoError, type TaskLogSink } from '@kumo/shared';

/** Under the API's body limit (1 MiB), with room to spare. */
export const HTTP_LOG_SEGMENT_BYTES = 512 * 1024;

/** Tries of one segment's write through a busy API (429) or a failing one (5xx, no answer). */
const TRIES = 5;

/**
 * An HTTPS worker's task log goes through the API (it holds no store credentials): each segment is a
 * PUT under the task's lease, which the API writes to its artifact store. Only the lease's holder may
 * write, and only while it holds the lease. A write refused for the rate limit, or failed on the way,
 * is tried again (the log shares the worker token's rate with leases and outcomes).
 */
export function httpLogSink(o: {
  controlUrl: string;
  token: string;
  leaseId: string;
  sleep: (ms: number) => Promise<void>;
}): TaskLogSink {
  const base = `${o.controlUrl}/v1/workers/leases/${encodeURIComponent(o.leaseId)}/log`;
  const send = async (method: 'PUT' | 'DELETE', url: string, body?: Buffer): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      let status: number;
      try {
        const res = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${o.token}`,
            ...(body ? { 'content-type': 'application/octet-stream' } : {}),
          },
          ...(body ? { body: Uint8Array.from(body) } : {}),
        });
        await res.arrayBuffer();
        if (res.ok) return;
        status = res.status;
      } catch (err) {
        if (attempt >= TRIES)
          throw new KumoError('PROVIDER_UNAVAILABLE', `task log ${method}: the API did not answer`, { cause: err });
        status = 0;
      }
      const retryable = status === 0 || status === 429 || status >= 500;
      if (!retryable || attempt >= TRIES) {
        throw new KumoError(
          status === 409 ? 'CONFLICT' : 'PROVIDER_UNAVAILABLE',
          `task log ${method}: HTTP ${status}`,
          { retryable, details: { status } },
        );
      }
      await o.sleep(Math.min(250 * 2 ** attempt, 4000));
    }
  };
  return {
    // The API clears what an earlier run of the attempt left when the first segment (offset 0) comes: no request of its own.
    clear: async () => undefined,
    put: (offset, body, last) => send('PUT', `${base}/${offset}${last ? '?last=true' : ''}`, body),
    remove: (offset, last) => send('DELETE', `${base}/${offset}${last ? '?last=true' : ''}`),
  };
}
