import { api, ApiError } from '../api';
import { h } from '../dom';
import { go, href } from '../router';
import { setToken } from '../token';
import type { Unmount } from '../view';

/** Why the login page is shown, in words a user can act on. */
const REASONS: Record<string, string> = {
  rejected: 'The API did not accept the token (unknown, revoked or expired). Paste a valid token to continue.',
  'link-rejected':
    'The token in the link was not accepted (unknown, revoked or expired). Paste a valid token to continue.',
  'signed-out': 'Signed out. The token was removed from this tab.',
};

export function loginView(root: HTMLElement, query: URLSearchParams): Unmount {
  const reason = query.get('reason');
  const message = h('div', { class: 'login-message', role: 'alert', 'aria-live': 'polite' });
  const showMessage = (text: string, kind: 'error' | 'info'): void => {
    message.textContent = text;
    message.className = `login-message notice notice-${kind}`;
  };
  if (reason && REASONS[reason]) showMessage(REASONS[reason], reason === 'signed-out' ? 'info' : 'error');

  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'Bearer token',
  });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login-form' },
    h('label', { for: 'token' }, 'API token'),
    input,
    h(
      'p',
      { class: 'hint' },
      'An admin, submitter or viewer token (`kumo` prints the admin token into .kumo/admin-token). It is kept in this tab only.',
    ),
    button,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    api
      .checkToken(token)
      .then(() => {
        setToken(token);
        go(href.jobs());
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.unauthenticated)
          showMessage(`That token was not accepted: ${err.message}.`, 'error');
        else showMessage(err instanceof Error ? err.message : String(err), 'error');
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  root.replaceChildren(h('section', { class: 'login card' }, h('h1', {}, 'Sign in to kumo'), message, form));
  input.focus();
  return () => {};
}
