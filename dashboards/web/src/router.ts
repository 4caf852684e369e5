/**
 * Hash routes, so the API serves one index.html for everything and a reload keeps the page:
 *   #/jobs?state=running&kind=...   the jobs list with its filters
 *   #/jobs/<id>                     one job
 *   #/pools                         pools
 *   #/login?reason=...              the token form
 */
export type Route =
  | { name: 'jobs'; query: URLSearchParams }
  | { name: 'job'; id: string }
  | { name: 'pools' }
  | { name: 'login'; query: URLSearchParams };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', qs = ''] = raw.split('?', 2);
  const query = new URLSearchParams(qs);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'jobs' && parts[1]) return { name: 'job', id: parts[1] };
  if (parts[0] === 'pools') return { name: 'pools' };
  if (parts[0] === 'login') return { name: 'login', query };
  return { name: 'jobs', query };
}

export const href = {
  jobs: (q?: URLSearchParams): string => `#/jobs${q && [...q].length ? `?${q}` : ''}`,
  job: (id: string): string => `#/jobs/${encodeURIComponent(id)}`,
  pools: (): string => '#/pools',
  login: (reason?: string): string => `#/login${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`,
};

export function go(to: string): void {
  if (location.hash !== to) location.hash = to;
}
