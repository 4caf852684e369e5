import { ApiError, authHeaders } from './api';
import type { JobState, Progress } from './types';

export interface JobStreamHandlers {
  onProgress?(p: Progress): void;
  onState?(s: { state: JobState; reason: string | null }): void;
  /** The job has ended; the stream is closed and will not reconnect. */
  onEnd?(s: { state: JobState }): void;
  /** A refusal that reconnecting cannot fix (401, 404): the stream stops. */
  onFatal?(err: ApiError): void;
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;

/**
 * Follows `GET /v1/jobs/:id/events`. EventSource cannot send an Authorization header, so this is
 * fetch() with a stream reader and a small parser of the `event:`/`data:` frames. A dropped
 * connection (API restart, proxy timeout) reconnects with backoff; the server opens every stream
 * with the current state and progress, so nothing is missed across a reconnect.
 * Returns a function that stops following.
 */
export function followJob(id: string, h: JobStreamHandlers): () => void {
  const ctrl = new AbortController();
  let retryMs = RETRY_MIN_MS;

  const dispatch = (event: string, data: string): boolean => {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      return false;
    }
    if (event === 'progress') h.onProgress?.(payload as Progress);
    else if (event === 'state') h.onState?.(payload as { state: JobState; reason: string | null });
    else if (event === 'end') {
      h.onEnd?.(payload as { state: JobState });
      return true;
    }
    return false;
  };

  const run = async (): Promise<void> => {
    while (!ctrl.signal.aborted) {
      try {
        const res = await fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, {
          headers: { accept: 'text/event-stream', ...authHeaders() },
          signal: ctrl.signal,
        });
        if (res.status === 401 || res.status === 403 || res.status === 404) {
          const body = (await res.json().catch(() => undefined)) as
            { error?: { code: string; message: string } } | undefined;
          h.onFatal?.(
            new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText),
          );
          return;
        }
        if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
        retryMs = RETRY_MIN_MS;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          // Frames end with a blank line; a partial frame waits in `buf` for the next chunk.
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of frame.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            }
            if (data.length && dispatch(event, data.join('\n'))) {
              ctrl.abort();
              return;
            }
          }
        }
      } catch {
        if (ctrl.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    }
  };
  void run();
  return () => ctrl.abort();
}
