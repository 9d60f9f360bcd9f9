// @ts-check
// Sign in (client auth mode): the user's own Kubernetes bearer token, checked with one request
// and kept in this tab only.
import { call, statusOf, messageOf } from '../api.js';
import { h, show } from '../dom.js';
import { keepToken, session } from '../session.js';

/**
 * @param {() => void} signedIn what to show once the cluster accepts the token
 */
export function loginView(signedIn) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    required: true, spellcheck: 'false', 'aria-describedby': 'token-help' });
  const error = h('p', { class: 'error', id: 'token-error', role: 'alert' });
  const submit = async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    session.token = input.value.trim();
    try {
      await call('GET', '/api/scheduledruns?namespace=default');
    } catch (err) {
      const status = statusOf(err);
      if (status === 401 || status === 0) {
        error.textContent = status === 401 ? 'The cluster did not accept this token.' : messageOf(err);
        session.token = null;
        return;
      }
    }
    keepToken(session.token);
    signedIn();
  };
  show(
    h('h1', { tabindex: -1 }, 'Sign in'),
    h('form', { class: 'card narrow', onsubmit: submit },
      h('label', { for: 'token' }, 'Kubernetes bearer token'),
      input,
      h('p', { id: 'token-help', class: 'help' },
        'Every call this page makes to the cluster carries this token, so your own RBAC decides what ',
        'you see and may do. It is kept only in this browser tab (sessionStorage) and sent as an ',
        'Authorization header, never as a cookie; closing the tab forgets it. Get one with ',
        h('code', null, 'kubectl create token NAME -n NAMESPACE'), '.'),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Sign in')));
  input.focus();
}
