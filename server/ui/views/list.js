// @ts-check
// The list: every ScheduledRun the caller may see, by namespace, filtered as the user types,
// refreshed every few seconds (redrawn only when an object or the caller's access changed).
import { accessFor, call, srRoute } from '../api.js';
import { fill, focusedKey, focusHeading, h, refocus, show } from '../dom.js';
import { actionsFor } from '../actions.js';
import { loadModel } from '../model.js';
import { CONDITION } from '../names.js';
import { acceptedEl, scheduleEl, statusBadge, targetText } from '../pieces.js';
import { every } from '../poll.js';
import { current } from '../session.js';
import { timeEl } from '../time.js';

/** @typedef {import('../types.js').ScheduledRun} ScheduledRun */
/** @typedef {import('../types.js').Access} Access */
/** @typedef {import('../model.js').Model} Model */

const LIST_POLL_MS = 5000;
const COLUMNS = ['Name', 'Schedule', 'Target', CONDITION.accepted, 'Last run', 'Next run', 'Actions'];

/**
 * One row of the list.
 * @param {Model} model
 * @param {ScheduledRun} sr
 * @param {Access} access
 * @param {() => unknown} refresh
 */
function row(model, sr, access, refresh) {
  const { namespace, name } = sr.metadata;
  const st = sr.status || {};
  return h('tr', { 'data-name': name },
    h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: srRoute(namespace, name), 'data-key': `open:${namespace}/${name}` }, name),
      sr.spec.suspend ? h('span', { class: 'badge wait' }, 'Suspended') : null),
    h('td', { 'data-label': 'Schedule' }, scheduleEl(model, sr.spec)),
    h('td', { 'data-label': 'Target' }, targetText(sr.spec)),
    h('td', { 'data-label': CONDITION.accepted }, acceptedEl(sr)),
    h('td', { 'data-label': 'Last run' }, statusBadge(st.lastRunStatus), st.lastRunTime ? timeEl(st.lastRunTime, true) : null),
    h('td', { 'data-label': 'Next run' }, sr.spec.suspend ? h('span', { class: 'muted' }, 'suspended') : timeEl(st.nextRunTime, true)),
    h('td', { 'data-label': 'Actions' }, actionsFor(sr, access, refresh, 'list')));
}

/**
 * Whether the filter's words match a ScheduledRun.
 * @param {Model} model
 * @param {ScheduledRun} sr
 * @param {string} words lower-case
 */
function matches(model, sr, words) {
  return !words || [sr.metadata.name, targetText(sr.spec), sr.spec.schedule, model.valueOf(sr.spec, 'timeZone')]
    .join(' ').toLowerCase().includes(words);
}

/** @param {number} gen the navigation this view belongs to */
export async function listView(gen) {
  const model = await loadModel();
  const filter = h('input', { id: 'filter', type: 'search', placeholder: 'name, target, schedule…', 'data-key': 'filter' });
  const nsSelect = h('select', { id: 'ns-filter', 'data-key': 'ns-filter' }, h('option', { value: '' }, 'All namespaces'));
  const body = h('div', { id: 'list', 'aria-live': 'off' });
  const updated = h('p', { class: 'sub', id: 'updated' });
  /** @type {ScheduledRun[]} */
  let items = [];
  let signature = '';
  /** @type {Record<string, Access>} */
  let accessByNs = {};

  const draw = () => {
    const words = filter.value.trim().toLowerCase();
    const chosen = nsSelect.value;
    const shown = items.filter((sr) => (!chosen || sr.metadata.namespace === chosen) && matches(model, sr, words));
    /** @type {Map<string, ScheduledRun[]>} */
    const byNs = new Map();
    for (const sr of shown) byNs.set(sr.metadata.namespace, [...(byNs.get(sr.metadata.namespace) || []), sr]);
    const sections = [...byNs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([ns, list]) => h('section', { class: 'ns' },
      h('h2', null, h('span', { class: 'sub' }, 'namespace '), ns),
      h('table', { class: 'cards' },
        h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, list.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
          .map((sr) => row(model, sr, accessByNs[ns] || { actions: {}, missing: {} }, refresh))))));
    const empty = items.length === 0
      ? h('p', { class: 'empty' }, 'No ScheduledRuns you may see yet. ', h('a', { href: '#/new' }, 'Create one'), '.')
      : shown.length === 0 ? h('p', { class: 'empty' }, 'Nothing matches the filter.') : null;
    const focused = focusedKey();
    fill(body, ...sections, empty);
    if (focused && !['filter', 'ns-filter'].includes(focused)) refocus(body, focused);
  };

  async function refresh() {
    /** @type {{ data: ScheduledRun[] }} */
    const answer = await call('GET', '/api/scheduledruns');
    if (!current(gen)) return;
    const namespaces = [...new Set(answer.data.map((sr) => sr.metadata.namespace))].sort();
    const pairs = await Promise.all(namespaces.map(async (ns) => /** @type {const} */ ([ns, await accessFor(ns)])));
    if (!current(gen)) return;
    accessByNs = Object.fromEntries(pairs);
    items = answer.data;
    const chosen = nsSelect.value;
    fill(nsSelect, h('option', { value: '' }, 'All namespaces'),
      ...namespaces.map((ns) => h('option', { value: ns, selected: ns === chosen }, ns)));
    updated.textContent = `${items.length} ScheduledRun${items.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString('en-GB')} · refreshes every ${LIST_POLL_MS / 1000} s`;
    const next = JSON.stringify([items.map((sr) => [sr.metadata.resourceVersion]), accessByNs]);
    if (next !== signature) {
      signature = next;
      draw();
    }
  }

  filter.addEventListener('input', draw);
  nsSelect.addEventListener('change', draw);
  await refresh();
  if (!current(gen)) return;
  show(
    h('div', { class: 'head' }, h('h1', { tabindex: -1 }, 'Schedules'), h('a', { class: 'button primary', href: '#/new' }, 'New schedule')),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { for: 'filter' }, 'Filter'), filter),
      h('div', { class: 'field inline' }, h('label', { for: 'ns-filter' }, 'Namespace'), nsSelect)),
    updated, body);
  focusHeading();
  every(gen, LIST_POLL_MS, refresh);
}
