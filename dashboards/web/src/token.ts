/**
 * The bearer token lives in sessionStorage: it is gone when the tab closes, and it never goes into
 * a URL the server logs. A link may carry it as `#token=...` (the fragment is never sent to the
 * server); we take it from there and strip it at once so it stays out of history and screenshots.
 */
const KEY = 'kumo.token';

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

/** Reads `#token=...` (alone, or among other `&`-joined fragment params), stores it and strips it. */
export function takeTokenFromFragment(): boolean {
  const hash = location.hash.replace(/^#/, '');
  if (!hash.startsWith('token=') && !hash.includes('&token=')) return false;
  const params = new URLSearchParams(hash);
  const token = params.get('token')?.trim();
  if (!token) return false;
  setToken(token);
  // replaceState, not `location.hash =`: no history entry keeps the secret.
  history.replaceState(null, '', `${location.pathname}${location.search}#/jobs`);
  return true;
}
