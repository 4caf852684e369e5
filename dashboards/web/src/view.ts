import { ApiError } from './api';
import { h } from './dom';
import { href } from './router';
import { clearToken } from './token';

/** A mounted page. `unmount` stops its timers and streams; the router calls it before the next page. */
export type Unmount = () => void;

/**
 * What every page does with a failed call: a 401 means the token is no longer good (revoked,
 * expired), so it is dropped and the login page says why; anything else shows in place.
 */
export function handleError(err: unknown, where: HTMLElement): void {
  if (err instanceof DOMException && err.name === 'AbortError') return;
  if (err instanceof ApiError && err.unauthenticated) {
    clearToken();
    location.hash = href.login('rejected');
    return;
  }
  const msg =
    err instanceof ApiError ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
  where.replaceChildren(h('div', { class: 'notice notice-error', role: 'alert' }, msg));
}

/** Runs `fn` now and every `ms` until stopped; a slow call never overlaps the next. */
export function every(ms: number, fn: () => Promise<void>): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async (): Promise<void> => {
    try {
      await fn();
    } finally {
      if (!stopped) timer = setTimeout(() => void tick(), ms);
    }
  };
  timer = setTimeout(() => void tick(), ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
