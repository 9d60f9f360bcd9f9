// The ScheduledRuns web UI: one page, hash routes, the REST API under /api.
//
// Safety rules of this file: every piece of text from the cluster (names, prompts, agent
// answers, messages) reaches the page through text nodes or setAttribute on fixed attribute
// names, never as HTML; no inline script exists (the server's CSP forbids it); the bearer token
// lives only in this tab's sessionStorage and is sent as an Authorization header.
'use strict';

const TOKEN_KEY = 'scheduledrun.token';
const LIST_POLL_MS = 5000;
const DETAIL_POLL_MS = 2000;
const VALIDATE_DELAY_MS = 250;
const ACCESS_TTL_MS = 30000;
const PREVIEW_COUNT = 5;
const MESSAGE_PREVIEW = 120;
const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const state = {
  config: { authMode: 'client', sessionUrl: null },
  token: sessionStorage.getItem(TOKEN_KEY),
  gen: 0, // bumped on every navigation: late answers of an old page are dropped
  access: new Map(), // namespace -> {at, actions}
  docs: null, // spec field -> description, from the CRD via /api/openapi.json
};

// ---- DOM ------------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const main = () => document.getElementById('main');

// replaceChildren, skipping absent parts (null would otherwise show as the text "null").
function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

function show(...nodes) {
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.key : null;
  fill(main(), nodes);
  if (focused) {
    const again = main().querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

function toast(text, bad) {
  const box = document.getElementById('toast');
  box.className = bad ? 'bad' : '';
  box.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ''; }, 6000);
}

function confirmDialog(text, okLabel) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}

// ---- time -----------------------------------------------------------------------------------

function parseTime(iso) {
  const t = iso ? new Date(iso) : null;
  return t && !Number.isNaN(t.getTime()) ? t : null;
}

function formatIn(date, zone) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, weekday: 'short', year: 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short',
  }).format(date);
}

function formatFire(date, zone) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, weekday: 'short', year: 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false, timeZoneName: 'short',
  }).format(date).replace(',', '');
}

function formatShort(date) {
  const sameYear = date.getFullYear() === new Date().getFullYear();
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: BROWSER_ZONE, year: sameYear ? undefined : 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(date);
}

function relative(date) {
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] = abs < 60 ? [seconds, 'second'] : abs < 3600
    ? [Math.round(seconds / 60), 'minute'] : abs < 86400
      ? [Math.round(seconds / 3600), 'hour'] : [Math.round(seconds / 86400), 'day'];
  return new Intl.RelativeTimeFormat('en', { numeric: 'auto' }).format(value, unit);
}

function timeEl(iso, withRelative) {
  const date = parseTime(iso);
  if (!date) return h('span', { class: 'muted' }, '—');
  const text = formatShort(date);
  return h('time', { datetime: date.toISOString().replace('.000Z', 'Z'), title: formatIn(date, BROWSER_ZONE) },
    withRelative ? `${relative(date)}` : text, withRelative ? h('span', { class: 'sub' }, text) : null);
}

function duration(startIso, endIso) {
  const start = parseTime(startIso);
  const end = parseTime(endIso);
  if (!start || !end) return '—';
  const ms = end.getTime() - start.getTime();
  if (ms < 1000) return '< 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

// ---- API ------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, data) {
    super(message);
    this.status = status;
    this.data = data || {};
  }
}

async function call(method, path, body, headers) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, cache: 'no-store',
    credentials: 'omit' };
  if (state.token) init.headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `The server cannot be reached (${err.message})`);
  }
  let envelope = null;
  try { envelope = await response.json(); } catch (err) { envelope = null; }
  if (response.status === 401 && state.config.authMode === 'client') {
    signOut('The cluster did not accept your token. Sign in again.');
    throw new ApiError(401, 'Not signed in');
  }
  if (!response.ok || !envelope || envelope.error) {
    const message = envelope && envelope.message ? envelope.message : response.statusText;
    throw new ApiError(response.status, message, envelope && envelope.data);
  }
  return { data: envelope.data, etag: response.headers.get('ETag'), status: response.status };
}

const srPath = (ns, name) => `/api/scheduledruns/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

async function accessFor(namespace) {
  const cached = state.access.get(namespace);
  if (cached && Date.now() - cached.at < ACCESS_TTL_MS) return cached.actions;
  let actions = {};
  try {
    actions = (await call('GET', `/api/access?namespace=${encodeURIComponent(namespace)}`)).data.actions;
  } catch (err) {
    if (err.status === 401) throw err;
  }
  state.access.set(namespace, { at: Date.now(), actions });
  return actions;
}

async function fieldDocs() {
  if (state.docs) return state.docs;
  try {
    const response = await fetch('/api/openapi.json', { credentials: 'omit' });
    const doc = await response.json();
    const spec = doc.components.schemas.ScheduledRun.properties.spec.properties;
    state.docs = Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, v.description || '']));
    const ref = spec.targetRef && spec.targetRef.properties ? spec.targetRef.properties : {};
    state.docs['targetRef.name'] = ref.name ? ref.name.description : '';
  } catch (err) {
    state.docs = {};
  }
  return state.docs;
}

// ---- actions --------------------------------------------------------------------------------

const NOT_ALLOWED = {
  trigger: 'Not allowed: running it needs create on jobs (and get on cronjobs) in this namespace',
  suspend: 'Not allowed: needs patch on scheduledruns in this namespace',
  update: 'Not allowed: needs update on scheduledruns in this namespace',
  delete: 'Not allowed: needs delete on scheduledruns in this namespace',
  create: 'Not allowed: needs create on scheduledruns in this namespace',
};

function actionButton(label, action, actions, key, onclick, cls) {
  const allowed = Boolean(actions[action]);
  return h('button', {
    type: 'button', class: cls || null, 'data-key': key, 'data-action': action,
    disabled: !allowed, title: allowed ? null : NOT_ALLOWED[action],
    onclick: allowed ? onclick : null,
  }, label);
}

async function runAction(what, fn) {
  try {
    const message = await fn();
    toast(message);
    return true;
  } catch (err) {
    toast(`${what} failed: ${err.message}`, true);
    return false;
  }
}

function actionsFor(sr, actions, refresh, where) {
  const { namespace, name } = sr.metadata;
  // Paused after failures counts as suspended here: Resume lifts the pause (the API names it).
  const paused = ((sr.status && sr.status.conditions) || [])
    .some((c) => c.type === 'Paused' && c.status === 'True');
  const suspended = Boolean(sr.spec && sr.spec.suspend) || paused;
  const key = (a) => `${where}:${a}:${namespace}/${name}`;
  const trigger = () => runAction('Run now', async () => {
    const answer = await call('POST', `${srPath(namespace, name)}/trigger`, undefined,
      { 'Idempotency-Key': crypto.randomUUID() });
    refresh();
    return `Started run ${answer.data.id}`;
  });
  const toggle = () => runAction(suspended ? 'Resume' : 'Suspend', async () => {
    await call('POST', `${srPath(namespace, name)}/${suspended ? 'resume' : 'suspend'}`);
    refresh();
    return `${name} ${suspended ? 'resumed' : 'suspended'}`;
  });
  const remove = async () => {
    const sure = await confirmDialog(
      `Delete the schedule ${namespace}/${name}? Its CronJob, its Jobs and its run history go with it.`,
      `Delete ${name}`);
    if (!sure) return;
    const done = await runAction('Delete', async () => {
      await call('DELETE', srPath(namespace, name));
      return `${name} deleted`;
    });
    if (done) {
      if (location.hash === '#/') refresh();
      else location.hash = '#/';
    }
  };
  const edit = actions.update
    ? h('a', { class: 'button', href: `#/sr/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/edit`, 'data-key': key('edit') }, 'Edit')
    : h('button', { type: 'button', disabled: true, title: NOT_ALLOWED.update, 'data-action': 'update' }, 'Edit');
  return h('div', { class: 'actions', role: 'group', 'aria-label': `Actions for ${name}` },
    actionButton('Run now', 'trigger', actions, key('trigger'), trigger, 'primary'),
    actionButton(suspended ? 'Resume' : 'Suspend', 'suspend', actions, key('suspend'), toggle),
    edit,
    actionButton('Delete', 'delete', actions, key('delete'), remove, 'danger'));
}

// ---- pieces shared by list and detail -------------------------------------------------------

function accepted(sr) {
  const conditions = (sr.status && sr.status.conditions) || [];
  return conditions.find((c) => c.type === 'Accepted') || null;
}

// Conditions other than Accepted that hold scheduled runs back (Paused, Stopped), when true.
function holds(sr) {
  const conditions = (sr.status && sr.status.conditions) || [];
  return conditions.filter((c) => c.type !== 'Accepted' && c.status === 'True')
    .map((c) => h('span', { class: 'badge wait', title: c.message || c.reason || '' }, c.type));
}

function acceptedEl(sr) {
  const cond = accepted(sr);
  if (!cond) return h('span', { class: 'badge wait' }, 'Not yet seen');
  if (cond.status === 'True') return h('span', null, h('span', { class: 'badge ok' }, 'Accepted'), holds(sr));
  return h('span', { class: 'why' }, h('span', { class: 'badge bad' }, cond.reason || 'Not accepted'),
    h('span', { class: 'sub' }, cond.message || ''));
}

function statusBadge(status) {
  if (!status) return h('span', { class: 'muted' }, 'never run');
  const cls = { Succeeded: 'ok', Pending: 'wait' }[status] || 'bad';
  return h('span', { class: `badge ${cls}`, 'data-status': status }, status);
}

function targetText(spec) {
  const ref = (spec && spec.targetRef) || {};
  return `${ref.kind || 'Agent'}/${ref.name || '?'}`;
}

function scheduleEl(spec) {
  return h('span', null, h('code', null, spec.schedule || ''), h('span', { class: 'sub' }, spec.timeZone || 'UTC'));
}

// ---- routes ---------------------------------------------------------------------------------

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query || '') };
}

async function render() {
  const gen = ++state.gen;
  document.getElementById('signout').hidden = state.config.authMode !== 'client' || !state.token;
  if (state.config.authMode === 'client' && !state.token) {
    loginView();
    return;
  }
  const { parts, query } = route();
  try {
    if (parts.length === 0) await listView(gen);
    else if (parts[0] === 'new') await formView(gen, null, query.get('namespace'));
    else if (parts[0] === 'sr' && parts.length === 3) await detailView(gen, parts[1], parts[2]);
    else if (parts[0] === 'sr' && parts.length === 4 && parts[3] === 'edit') await formView(gen, { namespace: parts[1], name: parts[2] });
    else show(h('h1', { tabindex: -1 }, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the list')));
  } catch (err) {
    if (gen !== state.gen || err.status === 401) return;
    show(h('h1', { tabindex: -1 }, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, err.message),
      h('p', null, h('a', { href: '#/' }, 'Back to the list')));
  }
}

function focusHeading() {
  const heading = main().querySelector('h1');
  if (heading) heading.focus({ preventScroll: true });
}

function every(gen, ms, fn) {
  const tick = async () => {
    if (gen !== state.gen) return;
    if (!document.hidden) {
      try { await fn(); } catch (err) { if (err.status !== 401) toast(`Refresh failed: ${err.message}`, true); }
    }
    if (gen === state.gen) setTimeout(tick, ms);
  };
  setTimeout(tick, ms);
}

// ---- sign in --------------------------------------------------------------------------------

function signOut(message) {
  state.token = null;
  state.access.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  if (message) toast(message, true);
  render();
}

function loginView() {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    required: true, spellcheck: 'false', 'aria-describedby': 'token-help' });
  const error = h('p', { class: 'error', id: 'token-error', role: 'alert' });
  const submit = async (event) => {
    event.preventDefault();
    state.token = input.value.trim();
    try {
      await call('GET', '/api/scheduledruns?namespace=default');
    } catch (err) {
      if (err.status === 401 || err.status === 0) {
        error.textContent = err.status === 401 ? 'The cluster did not accept this token.' : err.message;
        state.token = null;
        return;
      }
    }
    sessionStorage.setItem(TOKEN_KEY, state.token);
    render();
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

// ---- list -----------------------------------------------------------------------------------

async function listView(gen) {
  const filter = h('input', { id: 'filter', type: 'search', placeholder: 'name, target, schedule…', 'data-key': 'filter' });
  const nsSelect = h('select', { id: 'ns-filter', 'data-key': 'ns-filter' }, h('option', { value: '' }, 'All namespaces'));
  const body = h('div', { id: 'list', 'aria-live': 'off' });
  const updated = h('p', { class: 'sub', id: 'updated' });
  let items = [];
  let signature = '';
  let actionsByNs = {};

  const draw = () => {
    const words = filter.value.trim().toLowerCase();
    const chosen = nsSelect.value;
    const shown = items.filter((sr) => (!chosen || sr.metadata.namespace === chosen) && (!words ||
      [sr.metadata.name, targetText(sr.spec), sr.spec.schedule, sr.spec.timeZone || '']
        .join(' ').toLowerCase().includes(words)));
    const byNs = new Map();
    for (const sr of shown) {
      if (!byNs.has(sr.metadata.namespace)) byNs.set(sr.metadata.namespace, []);
      byNs.get(sr.metadata.namespace).push(sr);
    }
    const sections = [...byNs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([ns, list]) => h('section', { class: 'ns' },
      h('h2', null, h('span', { class: 'sub' }, 'namespace '), ns),
      h('table', { class: 'cards' },
        h('thead', null, h('tr', null, ['Name', 'Schedule', 'Target', 'Accepted', 'Last run', 'Next run', 'Actions']
          .map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, list.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((sr) => {
          const st = sr.status || {};
          const link = `#/sr/${encodeURIComponent(ns)}/${encodeURIComponent(sr.metadata.name)}`;
          return h('tr', { 'data-name': sr.metadata.name },
            h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: link, 'data-key': `open:${ns}/${sr.metadata.name}` }, sr.metadata.name),
              sr.spec.suspend ? h('span', { class: 'badge wait' }, 'Suspended') : null),
            h('td', { 'data-label': 'Schedule' }, scheduleEl(sr.spec)),
            h('td', { 'data-label': 'Target' }, targetText(sr.spec)),
            h('td', { 'data-label': 'Accepted' }, acceptedEl(sr)),
            h('td', { 'data-label': 'Last run' }, statusBadge(st.lastRunStatus), st.lastRunTime ? timeEl(st.lastRunTime, true) : null),
            h('td', { 'data-label': 'Next run' }, sr.spec.suspend ? h('span', { class: 'muted' }, 'suspended') : timeEl(st.nextRunTime, true)),
            h('td', { 'data-label': 'Actions' }, actionsFor(sr, actionsByNs[ns] || {}, refresh, 'list')));
        })))));
    const empty = items.length === 0
      ? h('p', { class: 'empty' }, 'No ScheduledRuns you may see yet. ', h('a', { href: '#/new' }, 'Create one'), '.')
      : shown.length === 0 ? h('p', { class: 'empty' }, 'Nothing matches the filter.') : null;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    fill(body, ...sections, ...(empty ? [empty] : []));
    if (focused && !['filter', 'ns-filter'].includes(focused)) {
      const again = body.querySelector(`[data-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  };

  async function refresh() {
    const answer = await call('GET', '/api/scheduledruns');
    if (gen !== state.gen) return;
    const namespaces = [...new Set(answer.data.map((sr) => sr.metadata.namespace))].sort();
    const pairs = await Promise.all(namespaces.map(async (ns) => [ns, await accessFor(ns)]));
    if (gen !== state.gen) return;
    actionsByNs = Object.fromEntries(pairs);
    items = answer.data;
    const chosen = nsSelect.value;
    fill(nsSelect, h('option', { value: '' }, 'All namespaces'),
      ...namespaces.map((ns) => h('option', { value: ns, selected: ns === chosen }, ns)));
    updated.textContent = `${items.length} ScheduledRun${items.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString('en-GB')} · refreshes every ${LIST_POLL_MS / 1000} s`;
    const next = JSON.stringify([items.map((sr) => [sr.metadata.resourceVersion]), actionsByNs]);
    if (next !== signature) {
      signature = next;
      draw();
    }
  }

  filter.addEventListener('input', draw);
  nsSelect.addEventListener('change', draw);
  await refresh();
  if (gen !== state.gen) return;
  show(
    h('div', { class: 'head' }, h('h1', { tabindex: -1 }, 'Schedules'), h('a', { class: 'button primary', href: '#/new' }, 'New schedule')),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { for: 'filter' }, 'Filter'), filter),
      h('div', { class: 'field inline' }, h('label', { for: 'ns-filter' }, 'Namespace'), nsSelect)),
    updated, body);
  focusHeading();
  every(gen, LIST_POLL_MS, refresh);
}

// ---- detail ---------------------------------------------------------------------------------

function shortId(id) {
  if (!id) return null;
  return id.length > 13 ? h('span', { title: id, 'aria-label': id }, `${id.slice(0, 8)}…`) : id;
}

function sessionLink(template, sr, entry) {
  if (!template || !entry.sessionID) return shortId(entry.sessionID);
  const values = {
    namespace: sr.metadata.namespace, name: sr.metadata.name,
    agent: (sr.spec.targetRef || {}).name || '', sessionID: entry.sessionID, taskID: entry.taskID || '',
  };
  const url = template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? encodeURIComponent(values[key]) : all));
  if (!/^https?:\/\//i.test(url)) return entry.sessionID;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: `Open session ${entry.sessionID} in kagent`, 'aria-label': `Session ${entry.sessionID} in kagent` }, `${entry.sessionID.slice(0, 8)}…`);
}

function messageEl(entry, open) {
  const text = entry.message || '';
  if (text.length <= MESSAGE_PREVIEW && !text.includes('\n')) return h('span', { class: 'message' }, text);
  return h('details', { 'data-id': entry.id, open: open.has(entry.id) },
    h('summary', null, `${text.slice(0, MESSAGE_PREVIEW).replace(/\s+/g, ' ')}…`),
    h('pre', { class: 'message' }, text));
}

function historyTable(sr, open) {
  const entries = (sr.status && sr.status.runHistory) || [];
  if (entries.length === 0) return h('p', { class: 'empty' }, 'No runs yet.');
  return h('table', { class: 'cards', id: 'history' },
    h('thead', null, h('tr', null, ['Status', 'Trigger', 'Scheduled', 'Started', 'Ended', 'Duration', 'Session', 'Task', 'Message']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, entries.map((e) => h('tr', { 'data-run': e.id },
      h('td', { 'data-label': 'Status' }, statusBadge(e.status), h('span', { class: 'sub' }, e.id)),
      h('td', { 'data-label': 'Trigger' }, e.trigger || ''),
      h('td', { 'data-label': 'Scheduled' }, timeEl(e.scheduledTime)),
      h('td', { 'data-label': 'Started' }, timeEl(e.startTime)),
      h('td', { 'data-label': 'Ended' }, timeEl(e.endTime)),
      h('td', { 'data-label': 'Duration' }, duration(e.startTime, e.endTime)),
      h('td', { 'data-label': 'Session', class: 'id' }, sessionLink(state.config.sessionUrl, sr, e) || '—'),
      h('td', { 'data-label': 'Task', class: 'id' }, shortId(e.taskID) || '—'),
      h('td', { 'data-label': 'Message' }, messageEl(e, open))))));
}

function specList(spec, status) {
  const rows = [
    ['Schedule', h('code', null, spec.schedule || '')],
    ['Time zone', spec.timeZone || 'UTC'],
    ['Target', targetText(spec)],
    ['Suspended', spec.suspend ? 'yes' : 'no'],
    ['Concurrency policy', spec.concurrencyPolicy || 'Forbid'],
    ['Starting deadline', spec.startingDeadlineSeconds ? `${spec.startingDeadlineSeconds} s` : 'none'],
    ['Timeout', spec.timeout || '15m'],
    ['Run history kept', String(spec.maxRunHistory || 10)],
    ['Include previous run', spec.includePreviousRun ? 'yes' : 'no'],
    ['Pause after failures', spec.pauseAfterFailures ? `${spec.pauseAfterFailures} in a row` : 'never'],
    ['End time', spec.endTime ? timeEl(spec.endTime) : 'none'],
    ['Most scheduled runs', spec.maxRuns ? `${spec.maxRuns} (${(status || {}).scheduledRuns || 0} so far)` : 'no limit'],
  ];
  return h('dl', { class: 'spec' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
    h('dt', null, 'Prompt'), h('dd', null, h('pre', { class: 'prompt' }, spec.prompt || '')));
}

function conditionsTable(sr) {
  const conditions = (sr.status && sr.status.conditions) || [];
  if (conditions.length === 0) return h('p', { class: 'empty' }, 'The operator has not reported on this object yet.');
  return h('table', { class: 'cards' },
    h('thead', null, h('tr', null, ['Type', 'Status', 'Reason', 'Message', 'Since'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, conditions.map((c) => h('tr', null,
      h('td', { 'data-label': 'Type' }, c.type), h('td', { 'data-label': 'Status' }, c.status),
      h('td', { 'data-label': 'Reason' }, c.reason || ''), h('td', { 'data-label': 'Message' }, c.message || ''),
      h('td', { 'data-label': 'Since' }, timeEl(c.lastTransitionTime, true))))));
}

function fireTimesTable(times, zone, dst) {
  const repeats = new Set();
  for (const note of dst || []) if (note.kind === 'repeat') for (const t of note.times) repeats.add(t);
  const rows = [];
  const counted = times.some((t) => typeof t.shared === 'number');
  let previous = null;
  for (const [i, t] of times.entries()) {
    const instant = parseTime(t.time);
    for (const note of dst || []) {
      const at = parseTime(note.at);
      if (note.kind === 'skip' && note.times.length && at > (previous || 0) && at <= instant) {
        rows.push(h('tr', { class: 'dst' }, h('td', { colspan: 3 },
          `Skipped: ${note.times.map((w) => w.replace('T', ' ').slice(0, 16)).join(', ')} ${zone} does not exist that day (clocks go forward ${note.from.slice(11, 16)} → ${note.to.slice(11, 16)}).`)));
      }
    }
    const wall = t.local.slice(0, 19);
    rows.push(h('tr', null,
      h('td', null, String(i + 1)),
      h('td', null, h('time', { datetime: t.time, class: 'fire', title: t.local }, formatFire(instant, zone)),
        repeats.has(wall) ? h('span', { class: 'badge wait' }, 'fires twice: clocks go back') : null),
      h('td', null, formatFire(instant, BROWSER_ZONE)),
      counted ? h('td', null, sharedText(t)) : null));
    previous = instant;
  }
  const heads = ['#', `In ${zone}`, `In your browser (${BROWSER_ZONE})`, ...(counted ? ['Same minute'] : [])];
  return h('table', { class: 'preview' },
    h('thead', null, h('tr', null, heads.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows));
}

// How many other ScheduledRuns fire in a time's minute (validate counts them): the CronJob
// controller makes a minute's Jobs at a limited rate, so a crowded minute starts runs late.
function sharedText(t) {
  const parts = [];
  if (typeof t.shared === 'number') parts.push(t.shared ? `+${t.shared} in namespace` : 'alone in namespace');
  if (typeof t.sharedInCluster === 'number' && t.sharedInCluster !== t.shared) parts.push(`+${t.sharedInCluster} in cluster`);
  return h('span', { class: t.shared || t.sharedInCluster ? 'badge wait' : 'muted' }, parts.join(', '));
}

// Why some times will not fire (endTime, maxRuns, paused), as `scheduledrun next` says it.
function policyNotes(notes) {
  return notes && notes.length ? h('ul', { class: 'policy-notes' }, notes.map((n) => h('li', null, n))) : null;
}

function dstList(dst, zone) {
  if (!dst) return null;
  const affecting = dst.filter((n) => n.times.length);
  if (dst.length === 0) return h('p', { class: 'sub' }, `${zone} has no daylight-saving change in the next 12 months.`);
  if (affecting.length === 0) return h('p', { class: 'sub' }, `No daylight-saving change of ${zone} in the next 12 months touches this schedule.`);
  return h('ul', { class: 'dst-notes' }, affecting.map((n) => {
    const day = n.from.slice(0, 10);
    const listed = n.times.map((w) => w.slice(11, 16)).join(', ') + (n.more ? ' and more' : '');
    return h('li', null, n.kind === 'skip'
      ? `${day}: clocks go forward ${n.from.slice(11, 16)} → ${n.to.slice(11, 16)} in ${zone}; ${listed} does not exist that day and is skipped.`
      : `${day}: clocks go back ${n.from.slice(11, 16)} → ${n.to.slice(11, 16)} in ${zone}; ${listed} happens twice and fires twice.`);
  }));
}

async function detailView(gen, namespace, name) {
  let { data: sr } = await call('GET', srPath(namespace, name));
  let actions = await accessFor(namespace);
  if (gen !== state.gen) return;
  const head = h('div', { class: 'head' });
  const summary = h('section', { 'aria-labelledby': 'h-spec' });
  const conditions = h('div');
  const nextBox = h('div');
  const history = h('div', { id: 'history-box' });
  const updated = h('p', { class: 'sub' });
  let signature = '';

  const draw = () => {
    const st = sr.status || {};
    fill(head, 
      h('div', null, h('p', { class: 'sub' }, `namespace ${namespace}`), h('h1', { tabindex: -1 }, name),
        h('p', { class: 'badges' }, acceptedEl(sr), sr.spec.suspend ? h('span', { class: 'badge wait' }, 'Suspended') : null,
          h('span', { class: 'sub' }, 'last run '), statusBadge(st.lastRunStatus))),
      actionsFor(sr, actions, refresh, 'detail'));
    fill(summary, h('h2', { id: 'h-spec' }, 'Spec'), specList(sr.spec, sr.status));
    fill(conditions, conditionsTable(sr));
    const open = new Set([...history.querySelectorAll('details[open]')].map((d) => d.dataset.id));
    fill(history, historyTable(sr, open));
  };

  const drawNext = async () => {
    try {
      const { data } = await call('GET', `${srPath(namespace, name)}/next?count=${PREVIEW_COUNT}`);
      if (gen !== state.gen) return;
      fill(nextBox, 
        data.suspended ? h('p', { class: 'sub' }, 'Suspended: these are the times it would fire.') : null,
        policyNotes(data.notes),
        data.times.length ? fireTimesTable(data.times, data.timeZone, null)
          : h('p', { class: 'empty' }, data.notes && data.notes.length ? 'No time left to fire.' : 'This schedule has no time it can fire.'));
    } catch (err) {
      fill(nextBox, h('p', { class: 'error' }, err.message));
    }
  };

  async function refresh() {
    let answer;
    try {
      answer = await call('GET', srPath(namespace, name));
    } catch (err) {
      if (err.status === 404 && gen === state.gen) {
        toast(`${name} no longer exists`, true);
        location.hash = '#/';
        return;
      }
      throw err;
    }
    actions = await accessFor(namespace);
    if (gen !== state.gen) return;
    sr = answer.data;
    updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')} · refreshes every ${DETAIL_POLL_MS / 1000} s`;
    const next = JSON.stringify([sr.metadata.resourceVersion, actions]);
    if (next !== signature) {
      const specChanged = signature && JSON.parse(signature)[0] !== sr.metadata.resourceVersion;
      signature = next;
      draw();
      if (specChanged) drawNext();
    }
  }

  signature = JSON.stringify([sr.metadata.resourceVersion, actions]);
  draw();
  show(head, updated,
    h('div', { class: 'grid' }, summary,
      h('section', { 'aria-labelledby': 'h-cond' }, h('h2', { id: 'h-cond' }, 'Conditions'), conditions,
        h('h2', { id: 'h-next' }, 'Next fire times'), nextBox)),
    h('section', { 'aria-labelledby': 'h-runs' }, h('h2', { id: 'h-runs' }, 'Run history'),
      h('p', { class: 'sub' }, `Newest first; the newest ${sr.spec.maxRunHistory || 10} runs are kept. Times in your browser's zone (${BROWSER_ZONE}).`),
      history));
  focusHeading();
  drawNext();
  every(gen, DETAIL_POLL_MS, refresh);
}

// ---- create and edit ------------------------------------------------------------------------

// The spec fields the form edits; any other field of a stored object is kept as it is.
const FORM_FIELDS = ['schedule', 'timeZone', 'targetRef', 'prompt', 'suspend', 'concurrencyPolicy',
  'startingDeadlineSeconds', 'timeout', 'maxRunHistory', 'pauseAfterFailures', 'endTime', 'maxRuns',
  'includePreviousRun'];

// Validator field paths -> the form control that shows the problem.
function fieldOf(path) {
  if (path.startsWith('spec.targetRef')) return 'target';
  const known = { 'metadata.name': 'name', 'metadata.namespace': 'namespace', 'spec.schedule': 'schedule',
    'spec.timeZone': 'timeZone', 'spec.prompt': 'prompt', 'spec.suspend': 'suspend',
    'spec.concurrencyPolicy': 'concurrencyPolicy', 'spec.startingDeadlineSeconds': 'startingDeadlineSeconds',
    'spec.timeout': 'timeout', 'spec.maxRunHistory': 'maxRunHistory',
    'spec.pauseAfterFailures': 'pauseAfterFailures', 'spec.endTime': 'endTime', 'spec.maxRuns': 'maxRuns',
    'spec.includePreviousRun': 'includePreviousRun' };
  return known[path] || 'general';
}

async function knownNamespaces() {
  const [runs, agents] = await Promise.all([
    call('GET', '/api/scheduledruns').catch(() => ({ data: [] })),
    call('GET', '/api/agents').catch(() => ({ data: [] })),
  ]);
  return [...new Set([...runs.data.map((s) => s.metadata.namespace), ...agents.data.map((a) => a.namespace)])].sort();
}

// A field's documentation: as many whole sentences as fit in HELP_SHORT characters (else the
// words that fit), the rest on demand.
const HELP_SHORT = 160;
function helpText(id, text) {
  if (text.length <= HELP_SHORT) return h('div', { class: 'help', id: `${id}-help` }, text);
  const ends = [...text.slice(0, HELP_SHORT + 1).matchAll(/\. /g)].map((m) => m.index + 1);
  const sentence = ends.length && ends[ends.length - 1] > 20;
  const cut = sentence ? ends[ends.length - 1] : text.lastIndexOf(' ', HELP_SHORT);
  return h('div', { class: 'help', id: `${id}-help` }, text.slice(0, cut), sentence ? ' ' : '… ',
    h('details', { class: 'more' }, h('summary', null, 'More'), text.slice(cut).trim()));
}

async function formView(gen, editing, wantedNamespace) {
  const docs = await fieldDocs();
  let current = null;
  let etag = null;
  if (editing) {
    const answer = await call('GET', srPath(editing.namespace, editing.name));
    current = answer.data;
    etag = answer.etag;
  }
  const namespaces = editing ? [editing.namespace] : await knownNamespaces();
  if (gen !== state.gen) return;
  const spec = current ? current.spec : {};
  const touched = new Set();
  const controls = {};
  const errors = {};

  const field = (id, label, control, help, extra) => {
    controls[id] = control;
    control.id = id;
    control.name = id;
    control.setAttribute('aria-describedby', `${id}-help ${id}-error`);
    errors[id] = h('p', { class: 'error', id: `${id}-error` });
    return h('div', { class: `field ${extra || ''}` }, h('label', { for: id }, label), control,
      helpText(id, help || ''), errors[id]);
  };
  const input = (attrs) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });

  const nsList = h('datalist', { id: 'namespaces' }, namespaces.map((ns) => h('option', { value: ns })));
  const zoneList = h('datalist', { id: 'zones' },
    (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [BROWSER_ZONE]).map((z) => h('option', { value: z })));
  const namespace = input({ list: 'namespaces', value: editing ? editing.namespace : (wantedNamespace || namespaces[0] || 'default'), disabled: Boolean(editing), required: true });
  const nameInput = input({ value: editing ? editing.name : '', disabled: Boolean(editing), required: true, maxlength: 253 });
  const schedule = input({ value: spec.schedule || '', required: true, placeholder: '0 2 * * *' });
  const zone = input({ list: 'zones', value: spec.timeZone || '', placeholder: 'UTC' });
  const target = h('select', null);
  const otherKind = h('select', { id: 'targetKind', 'aria-label': 'Target kind' }, ['Agent', 'SandboxAgent'].map((k) => h('option', { value: k }, k)));
  const otherName = input({ id: 'targetName', 'aria-label': 'Target name', placeholder: 'agent name' });
  const otherBox = h('div', { class: 'other', hidden: true }, otherKind, otherName);
  const prompt = h('textarea', { rows: 6, required: true, maxlength: 32768 }, spec.prompt || '');
  const promptCount = h('span', { class: 'sub', 'aria-live': 'off' });
  const suspend = h('input', { type: 'checkbox', checked: Boolean(spec.suspend) });
  const policy = h('select', null, ['Forbid', 'Allow', 'Replace'].map((p) => h('option', { value: p, selected: (spec.concurrencyPolicy || 'Forbid') === p }, p)));
  const deadline = input({ type: 'number', min: 10, step: 1, inputmode: 'numeric', value: spec.startingDeadlineSeconds ?? '', placeholder: 'none' });
  const timeout = input({ value: spec.timeout || '', placeholder: '15m' });
  const history = input({ type: 'number', min: 1, max: 100, step: 1, inputmode: 'numeric', value: spec.maxRunHistory ?? '', placeholder: '10' });
  const pauseAfter = input({ type: 'number', min: 1, step: 1, inputmode: 'numeric', value: spec.pauseAfterFailures ?? '', placeholder: 'never' });
  const endTime = input({ value: spec.endTime || '', placeholder: '2026-12-31T23:00:00Z' });
  const maxRuns = input({ type: 'number', min: 1, step: 1, inputmode: 'numeric', value: spec.maxRuns ?? '', placeholder: 'no limit' });
  const previous = h('input', { type: 'checkbox', checked: Boolean(spec.includePreviousRun) });
  const general = h('div', { class: 'error', id: 'general-error', role: 'alert' });
  const verdict = h('p', { id: 'verdict', role: 'status', 'aria-live': 'polite' });
  const preview = h('div', { id: 'preview' });
  const dstBox = h('div', { id: 'dst' });
  const canWrite = h('p', { class: 'error', id: 'rbac' });
  const submit = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save' : 'Create');

  const chosenTarget = () => {
    if (target.value === '' || target.value === '*other') return { kind: otherKind.value, name: otherName.value.trim() };
    const [kind, ...rest] = target.value.split('/');
    return { kind, name: rest.join('/') };
  };

  const loadAgents = async () => {
    const ns = namespace.value.trim();
    let agents = [];
    try {
      agents = (await call('GET', `/api/agents?namespace=${encodeURIComponent(ns)}`)).data;
    } catch (err) { agents = []; }
    const had = spec.targetRef ? `${spec.targetRef.kind || 'Agent'}/${spec.targetRef.name}` : '';
    const previous = target.value || had;
    const groups = ['Agent', 'SandboxAgent'].map((kind) => {
      const list = agents.filter((a) => a.kind === kind);
      return list.length ? h('optgroup', { label: `${kind}s` }, list.map((a) => h('option', { value: `${kind}/${a.name}` }, a.name, a.description ? ` — ${a.description}` : ''))) : null;
    });
    fill(target, h('option', { value: '' }, agents.length ? 'Choose an agent…' : 'No agents in this namespace'), ...groups,
      h('option', { value: '*other' }, 'Another name (type it)…'));
    const values = [...target.options].map((o) => o.value);
    if (previous && values.includes(previous)) target.value = previous;
    else if (previous && previous !== '*other') {
      target.value = '*other';
      const [kind, ...rest] = previous.split('/');
      otherKind.value = kind;
      otherName.value = rest.join('/');
    }
    otherBox.hidden = target.value !== '*other';
  };

  const build = () => {
    const out = { schedule: schedule.value, targetRef: { apiGroup: 'kagent.dev', ...chosenTarget() }, prompt: prompt.value };
    if (zone.value.trim()) out.timeZone = zone.value.trim();
    if (suspend.checked) out.suspend = true;
    out.concurrencyPolicy = policy.value;
    if (deadline.value !== '') out.startingDeadlineSeconds = Number(deadline.value);
    if (timeout.value.trim()) out.timeout = timeout.value.trim();
    if (history.value !== '') out.maxRunHistory = Number(history.value);
    if (pauseAfter.value !== '') out.pauseAfterFailures = Number(pauseAfter.value);
    if (endTime.value.trim()) out.endTime = endTime.value.trim();
    if (maxRuns.value !== '') out.maxRuns = Number(maxRuns.value);
    if (previous.checked) out.includePreviousRun = true;
    if (current) { // a field this form does not know (a newer CRD) is kept as it was
      for (const [k, v] of Object.entries(current.spec)) if (!FORM_FIELDS.includes(k)) out[k] = v;
    }
    return { apiVersion: 'kagent.dev/v1alpha2', kind: 'ScheduledRun',
      metadata: { name: nameInput.value.trim(), namespace: namespace.value.trim() }, spec: out };
  };

  let sequence = 0;
  let timer = null;
  const showProblems = (problems, all) => {
    const byField = {};
    for (const p of problems) (byField[fieldOf(p.field)] ||= []).push(p);
    for (const [id, box] of Object.entries(errors)) {
      const list = (all || touched.has(id)) ? (byField[id] || []) : [];
      box.textContent = list.map((p) => p.message).join(' ');
      controls[id].setAttribute('aria-invalid', list.length ? 'true' : 'false');
      if (id === 'target') { otherName.setAttribute('aria-invalid', list.length ? 'true' : 'false'); }
    }
    const rest = byField.general || [];
    fill(general, ...rest.map((p) => h('p', null, `${p.field || 'object'}: ${p.message}`)));
  };

  const validate = async (all) => {
    const mine = ++sequence;
    promptCount.textContent = `${prompt.value.length} / 32768 characters`;
    let answer;
    try {
      answer = await call('POST', `/api/scheduledruns/validate?count=${PREVIEW_COUNT}`, build());
    } catch (err) {
      if (mine === sequence) verdict.textContent = `Cannot check: ${err.message}`;
      return null;
    }
    if (mine !== sequence || gen !== state.gen) return null;
    const v = answer.data;
    showProblems(v.problems, all);
    verdict.className = v.valid ? 'ok' : 'bad';
    verdict.textContent = v.valid ? 'Valid: the operator will accept this.'
      : `${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} to fix${all ? '' : ' (shown on the fields you have filled)'}.`;
    const zoneName = v.timeZone || 'UTC';
    const spread = v.suggestedSchedule ? h('p', { class: 'policy-notes' },
      'Other ScheduledRuns fire in the same minute; ', h('code', null, v.suggestedSchedule),
      ' keeps the hour and gives this one its own minute.') : null;
    fill(preview, policyNotes(v.notes), spread, v.times.length ? fireTimesTable(v.times, zoneName, v.dst)
      : h('p', { class: 'empty' }, v.problems.some((p) => p.field === 'spec.schedule' || p.field === 'spec.timeZone')
        ? 'Fix the schedule and time zone to see when it fires.'
        : v.notes && v.notes.length ? 'No time left to fire.' : 'This schedule has no time it can fire.'));
    fill(dstBox, v.times.length ? dstList(v.dst, zoneName) || '' : '');
    return v;
  };
  const later = (id) => () => {
    if (id) touched.add(id);
    clearTimeout(timer);
    timer = setTimeout(() => validate(false), VALIDATE_DELAY_MS);
  };

  const checkAccess = async () => {
    const ns = namespace.value.trim();
    if (!ns) return;
    const actions = await accessFor(ns);
    const action = editing ? 'update' : 'create';
    const allowed = Boolean(actions[action]);
    submit.disabled = !allowed;
    canWrite.textContent = allowed ? '' : NOT_ALLOWED[action];
  };

  const onSubmit = async (event) => {
    event.preventDefault();
    for (const id of Object.keys(errors)) touched.add(id);
    const v = await validate(true);
    if (!v || !v.valid) {
      const first = main().querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    const body = build();
    try {
      if (editing) {
        const path = srPath(editing.namespace, editing.name);
        const put = () => call('PUT', path, body, etag ? { 'If-Match': etag } : {});
        try {
          await put();
        } catch (err) {
          // The operator and the runner write status all the time, and each write is a new
          // resourceVersion: save again only if nobody changed the spec since the form opened.
          if (err.status !== 409) throw err;
          const fresh = await call('GET', path);
          if (JSON.stringify(fresh.data.spec) !== JSON.stringify(current.spec)) throw err;
          etag = fresh.etag;
          await put();
        }
        toast(`${body.metadata.name} saved`);
      } else {
        await call('POST', '/api/scheduledruns', body);
        toast(`${body.metadata.name} created`);
      }
      location.hash = `#/sr/${encodeURIComponent(body.metadata.namespace)}/${encodeURIComponent(body.metadata.name)}`;
    } catch (err) {
      if (err.data && err.data.problems) showProblems(err.data.problems, true);
      fill(general, h('p', null, err.status === 409 && editing
        ? 'Someone changed this ScheduledRun since you opened it. Reload the page to edit the current version.'
        : err.message));
    }
  };

  for (const [el, id] of [[namespace, 'namespace'], [nameInput, 'name'], [schedule, 'schedule'], [zone, 'timeZone'],
    [prompt, 'prompt'], [suspend, 'suspend'], [policy, 'concurrencyPolicy'], [deadline, 'startingDeadlineSeconds'],
    [timeout, 'timeout'], [history, 'maxRunHistory'], [pauseAfter, 'pauseAfterFailures'], [endTime, 'endTime'],
    [maxRuns, 'maxRuns'], [previous, 'includePreviousRun'], [otherName, 'target'], [otherKind, 'target']]) {
    el.addEventListener('input', later(id));
    el.addEventListener('change', later(id));
  }
  target.addEventListener('change', () => {
    otherBox.hidden = target.value !== '*other';
    later('target')();
  });
  namespace.addEventListener('change', async () => { await loadAgents(); checkAccess(); });

  const doc = (key, fallback) => docs[key] || fallback;
  const useMine = h('button', { type: 'button', class: 'link', onclick: () => { zone.value = BROWSER_ZONE; later('timeZone')(); } }, `Use my zone (${BROWSER_ZONE})`);
  const title = editing ? `Edit ${editing.name}` : 'New schedule';
  show(
    h('div', { class: 'head' }, h('div', null, editing ? h('p', { class: 'sub' }, `namespace ${editing.namespace}`) : null, h('h1', { tabindex: -1 }, title))),
    h('form', { class: 'form', novalidate: true, onsubmit: onSubmit },
      h('div', { class: 'cols' },
        h('fieldset', null, h('legend', null, 'What and when'),
          field('namespace', 'Namespace', namespace, 'Where the ScheduledRun lives; its target must be in the same namespace.'),
          field('name', 'Name', nameInput, 'A DNS name: lower-case letters, digits and dashes. It cannot be changed later.'),
          field('schedule', 'Schedule', schedule, doc('schedule', 'Cron schedule.')),
          field('timeZone', 'Time zone', zone, doc('timeZone', 'IANA time zone.')),
          useMine,
          field('target', 'Agent', target, doc('targetRef', 'The agent that receives the prompt.')),
          otherBox,
          field('prompt', 'Prompt', prompt, doc('prompt', 'The message sent to the agent.')),
          promptCount),
        h('div', { class: 'side' },
          h('section', { class: 'card', 'aria-labelledby': 'h-preview' },
            h('h2', { id: 'h-preview' }, 'Next five fire times'), verdict, preview, dstBox),
          h('fieldset', null, h('legend', null, 'Run settings'),
            field('suspend', 'Suspended', suspend, doc('suspend', 'Pauses scheduled runs.'), 'check'),
            field('concurrencyPolicy', 'Concurrency policy', policy, doc('concurrencyPolicy', 'What to do when a run is still going.')),
            field('startingDeadlineSeconds', 'Starting deadline (seconds)', deadline, doc('startingDeadlineSeconds', 'At least 10.')),
            field('timeout', 'Timeout', timeout, doc('timeout', 'How long a run may take.')),
            field('maxRunHistory', 'Runs kept in history', history, doc('maxRunHistory', '1 to 100.')),
            field('includePreviousRun', 'Include the previous run', previous, doc('includePreviousRun', 'Send the previous run as context.'), 'check')),
          h('fieldset', null, h('legend', null, 'Limits'),
            field('pauseAfterFailures', 'Pause after failures', pauseAfter, doc('pauseAfterFailures', 'Pause after this many failed runs in a row.')),
            field('endTime', 'End time', endTime, doc('endTime', 'No scheduled run after this RFC 3339 time.')),
            field('maxRuns', 'Most scheduled runs', maxRuns, doc('maxRuns', 'At most this many scheduled runs in total.'))))),
      general, canWrite,
      h('div', { class: 'actions' }, submit,
        h('a', { class: 'button', href: editing ? `#/sr/${encodeURIComponent(editing.namespace)}/${encodeURIComponent(editing.name)}` : '#/' }, 'Cancel'))),
    nsList, zoneList);
  await loadAgents();
  checkAccess();
  if (editing) { touched.add('schedule'); }
  focusHeading();
  validate(Boolean(editing));
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  try {
    const response = await fetch('/ui/config.json', { credentials: 'omit', cache: 'no-store' });
    state.config = await response.json();
  } catch (err) {
    toast('Cannot read the UI settings', true);
  }
  document.getElementById('signout').addEventListener('click', () => signOut('Signed out.'));
  window.addEventListener('hashchange', render);
  render();
}

document.addEventListener('DOMContentLoaded', start);
