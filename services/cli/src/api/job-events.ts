import type { Job, Progress } from './types';
import type { KumoClient } from './client';
import { expectOk } from './client';
import { apiError } from './api-error';
import { readSse } from './sse';

export type StreamOutcome = 'ended' | 'dropped';

/**
 * One connection to GET /v1/jobs/:id/events: `onProgress` for every progress event, until `event: end`
 * ('ended') or until the connection closes or breaks without one ('dropped': a restarted API, a proxy
 * idle timeout). Refusals (404, 401) and an `event: error` from the server are thrown.
 */
export async function streamJobEvents(
  api: KumoClient,
  id: string,
  onProgress: (p: Progress) => void,
): Promise<StreamOutcome> {
  const answer = await api.GET('/v1/jobs/{id}/events', {
    params: { path: { id } },
    parseAs: 'stream',
    headers: { accept: 'text/event-stream' },
  });
  const body = expectOk(answer);
  try {
    for await (const ev of readSse(body)) {
      if (ev.event === 'progress') onProgress(JSON.parse(ev.data) as Progress);
      else if (ev.event === 'end') return 'ended';
      else if (ev.event === 'error') throw apiError(answer.response.status, { error: JSON.parse(ev.data) });
    }
  } catch (err) {
    // A body cut mid-stream surfaces as a TypeError from fetch ("terminated"); the caller reconnects.
    if (err instanceof TypeError) return 'dropped';
    throw err;
  }
  return 'dropped';
}

export async function getJob(api: KumoClient, id: string): Promise<Job> {
  return expectOk(await api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
}
