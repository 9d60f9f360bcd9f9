// @ts-check
// The ScheduledRuns web UI: one page, hash routes, the REST API under /api. This module starts
// the page and routes; each view is a module of views/, the API client is api.js, the element
// builder dom.js, and what the server knows (fields, defaults, kinds, enums) comes from its
// document through model.js.
//
// Safety rules of every module: text from the cluster (names, prompts, agent answers, messages)
// reaches the page through text nodes or setAttribute on fixed attribute names, never as HTML;
// no inline script exists (the server's CSP forbids it); the bearer token lives only in this
// tab's sessionStorage and is sent as an Authorization header.
import { forgetAccess, messageOf, onUnauthorized, statusOf } from './api.js';
import { byId, h, show, toast } from './dom.js';
import { forgetToken, needsSignIn, session } from './session.js';
import { detailView } from './views/detail.js';
import { formView } from './views/form.js';
import { listView } from './views/list.js';
import { loginView } from './views/login.js';

/** The route in the URL's fragment: its path parts and query. */
function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = (path || '').split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query || '') };
}

/** Show the view the URL names (or the sign-in form first). */
async function render() {
  const gen = ++session.gen;
  byId('signout', HTMLButtonElement).hidden = session.config.authMode !== 'client' || !session.token;
  if (needsSignIn()) {
    loginView(render);
    return;
  }
  const { parts, query } = route();
  const [first, namespace, name, rest] = parts;
  try {
    if (parts.length === 0) await listView(gen);
    else if (first === 'new' && parts.length === 1) await formView(gen, null, query.get('namespace'));
    else if (first === 'sr' && namespace && name && parts.length === 3) await detailView(gen, namespace, name);
    else if (first === 'sr' && namespace && name && parts.length === 4 && rest === 'edit') await formView(gen, { namespace, name });
    else show(h('h1', { tabindex: -1 }, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the list')));
  } catch (err) {
    if (gen !== session.gen || statusOf(err) === 401) return;
    show(h('h1', { tabindex: -1 }, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, messageOf(err)),
      h('p', null, h('a', { href: '#/' }, 'Back to the list')));
  }
}

/** @param {string} [message] */
function signOut(message) {
  forgetToken();
  forgetAccess();
  if (message) toast(message, true);
  render();
}

async function start() {
  try {
    const response = await fetch('/ui/config.json', { credentials: 'omit', cache: 'no-store' });
    session.config = await response.json();
  } catch {
    toast('Cannot read the UI settings', true);
  }
  onUnauthorized(signOut);
  byId('signout', HTMLButtonElement).addEventListener('click', () => signOut('Signed out.'));
  window.addEventListener('hashchange', render);
  render();
}

start();
