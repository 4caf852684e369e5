import { api, ApiError } from './api';
import { go, href, parseRoute } from './router';
import { clearToken, getToken, takeTokenFromFragment } from './token';
import type { Unmount } from './view';
import { jobView } from './views/job-page';
import { jobsView } from './views/jobs-list';
import { loginView } from './views/login';
import { poolsView } from './views/pools';

const root = document.getElementById('app') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const signOut = document.getElementById('sign-out') as HTMLButtonElement;
let unmount: Unmount | undefined;

function show(): void {
  unmount?.();
  unmount = undefined;
  const route = parseRoute(location.hash);
  const signedIn = getToken() !== null;
  if (!signedIn && route.name !== 'login') {
    go(href.login());
    return;
  }
  nav.hidden = !signedIn;
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a[data-route]')) {
    a.classList.toggle('active', a.dataset.route === (route.name === 'job' ? 'jobs' : route.name));
  }
  window.scrollTo(0, 0);
  switch (route.name) {
    case 'login':
      document.title = 'kumo · sign in';
      unmount = loginView(root, route.query);
      break;
    case 'jobs':
      document.title = 'kumo · jobs';
      unmount = jobsView(root, route.query);
      break;
    case 'job':
      document.title = 'kumo · job';
      unmount = jobView(root, route.id);
      break;
    case 'pools':
      document.title = 'kumo · pools';
      unmount = poolsView(root);
      break;
  }
}

signOut.addEventListener('click', () => {
  clearToken();
  go(href.login('signed-out'));
});

async function boot(): Promise<void> {
  // A token from a link is checked before any page uses it, so a bad link says so plainly
  // instead of showing a page of errors.
  if (takeTokenFromFragment()) {
    try {
      await api.checkToken(getToken() ?? '');
    } catch (err) {
      if (err instanceof ApiError && err.unauthenticated) {
        clearToken();
        history.replaceState(null, '', href.login('link-rejected'));
      }
    }
  }
  window.addEventListener('hashchange', show);
  show();
}

void boot();
