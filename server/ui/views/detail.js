// @ts-check
// One ScheduledRun: its spec (every field the server's schema has, with the defaults it
// applies), its conditions, its next fire times and its run history, refreshed every two
// seconds without a reload.
import { accessFor, call, srPath, statusOf, messageOf } from '../api.js';
import { actionsFor } from '../actions.js';
import { fill, focusHeading, h, show, toast } from '../dom.js';
import { lookOf, ordered } from '../fields.js';
import { fireTimesTable, noFireTimes, policyNotes } from '../firetimes.js';
import { loadModel } from '../model.js';
import { acceptedEl, conditionsOf, statusBadge, targetText } from '../pieces.js';
import { every } from '../poll.js';
import { current, session } from '../session.js';
import { BROWSER_ZONE, duration, timeEl } from '../time.js';

/** @typedef {import('../types.js').ScheduledRun} ScheduledRun */
/** @typedef {import('../types.js').RunEntry} RunEntry */
/** @typedef {import('../types.js').NextRuns} NextRuns */
/** @typedef {import('../model.js').Model} Model */

const DETAIL_POLL_MS = 2000;
const PREVIEW_COUNT = 5;
const MESSAGE_PREVIEW = 120;

/** @param {string | undefined} id */
function shortId(id) {
  if (!id) return null;
  return id.length > 13 ? h('span', { title: id, 'aria-label': id }, `${id.slice(0, 8)}…`) : id;
}

/**
 * The run's session in kagent's UI, when the server has a link template (`--session-url`).
 * @param {string | null} template
 * @param {ScheduledRun} sr
 * @param {RunEntry} entry
 */
function sessionLink(template, sr, entry) {
  if (!template || !entry.sessionID) return shortId(entry.sessionID);
  /** @type {Record<string, string>} */
  const values = {
    namespace: sr.metadata.namespace, name: sr.metadata.name,
    agent: (sr.spec.targetRef || {}).name || '', sessionID: entry.sessionID, taskID: entry.taskID || '',
  };
  const url = template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? encodeURIComponent(values[key] || '') : all));
  if (!/^https?:\/\//i.test(url)) return entry.sessionID;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: `Open session ${entry.sessionID} in kagent`, 'aria-label': `Session ${entry.sessionID} in kagent` }, `${entry.sessionID.slice(0, 8)}…`);
}

/**
 * @param {RunEntry} entry
 * @param {Set<string>} open the runs whose message the user opened
 */
function messageEl(entry, open) {
  const text = entry.message || '';
  if (text.length <= MESSAGE_PREVIEW && !text.includes('\n')) return h('span', { class: 'message' }, text);
  return h('details', { 'data-id': entry.id, open: open.has(entry.id) },
    h('summary', null, `${text.slice(0, MESSAGE_PREVIEW).replace(/\s+/g, ' ')}…`),
    h('pre', { class: 'message' }, text));
}

/**
 * Each destination's delivery of the run (spec.delivery): its result, and why when it failed or
 * was skipped.
 * @param {RunEntry} entry
 */
function deliveryEl(entry) {
  const sent = entry.delivery || [];
  if (sent.length === 0) return '—';
  return h('ul', { class: 'deliveries' }, sent.map((d) => {
    /** @type {string[]} */
    const notes = [];
    if (d.code && (d.code < 200 || d.code >= 300)) notes.push(`HTTP ${d.code}`);
    else if (!d.code && d.error) notes.push('no answer');
    if (d.reason) notes.push(d.reason);
    if (d.attempts && d.attempts > 1) notes.push(`${d.attempts} attempts`);
    return h('li', { title: d.error || null },
      `${d.name}: ${d.result}${notes.length ? ` (${notes.join(', ')})` : ''}`);
  }));
}

/**
 * @param {ScheduledRun} sr
 * @param {Set<string>} open
 */
function historyTable(sr, open) {
  const entries = (sr.status && sr.status.runHistory) || [];
  if (entries.length === 0) return h('p', { class: 'empty' }, 'No runs yet.');
  return h('table', { class: 'cards', id: 'history' },
    h('thead', null, h('tr', null, ['Status', 'Trigger', 'Scheduled for', 'Started', 'Ended', 'Duration', 'Session', 'Task', 'Delivery', 'Message']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, entries.map((e) => h('tr', { 'data-run': e.id },
      h('td', { 'data-label': 'Status' }, statusBadge(e.status), h('span', { class: 'sub' }, e.id)),
      h('td', { 'data-label': 'Trigger' }, e.trigger || ''),
      h('td', { 'data-label': 'Scheduled for' }, timeEl(e.scheduledTime)),
      h('td', { 'data-label': 'Started' }, timeEl(e.startTime)),
      h('td', { 'data-label': 'Ended' }, timeEl(e.endTime)),
      h('td', { 'data-label': 'Duration' }, duration(e.startTime, e.endTime)),
      h('td', { 'data-label': 'Session', class: 'id' }, sessionLink(session.config.sessionUrl, sr, e) || '—'),
      h('td', { 'data-label': 'Task', class: 'id' }, shortId(e.taskID) || '—'),
      h('td', { 'data-label': 'Delivery' }, deliveryEl(e)),
      h('td', { 'data-label': 'Message' }, messageEl(e, open))))));
}

/**
 * One spec field's value as the detail view shows it: the CRD's default when it is unset.
 * @param {Model} model
 * @param {ScheduledRun} sr
 * @param {string} name
 * @returns {import('../dom.js').Children}
 */
function specValue(model, sr, name) {
  const schema = model.field(name) || {};
  const look = lookOf(name);
  const value = model.valueOf(sr.spec, name);
  if (look.input === 'target') return targetText(sr.spec);
  if (value === undefined || value === null || value === '') return look.unset || 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (schema.format === 'date-time') return timeEl(String(value));
  if (typeof value === 'object') return h('code', null, JSON.stringify(value));
  const text = look.unit ? `${value} ${look.unit}` : String(value);
  if (look.counted) return `${text} (${(sr.status || {}).scheduledRuns || 0} so far)`;
  return look.example ? h('code', null, text) : text;
}

/**
 * Every spec field, in the UI's order; long text (the prompt) last, as it is written.
 * @param {Model} model
 * @param {ScheduledRun} sr
 */
function specList(model, sr) {
  const fields = ordered(model.fields()).map(([name]) => name);
  const short = fields.filter((name) => lookOf(name).input !== 'multiline');
  const long = fields.filter((name) => lookOf(name).input === 'multiline');
  return h('dl', { class: 'spec' },
    short.map((name) => [h('dt', null, lookOf(name).term || lookOf(name).label), h('dd', { 'data-field': name }, specValue(model, sr, name))]),
    long.map((name) => [h('dt', null, lookOf(name).term || lookOf(name).label),
      h('dd', { 'data-field': name }, h('pre', { class: name }, String(sr.spec[name] ?? '')))]));
}

/** @param {ScheduledRun} sr */
function conditionsTable(sr) {
  const conditions = conditionsOf(sr);
  if (conditions.length === 0) return h('p', { class: 'empty' }, 'The operator has not reported on this object yet.');
  return h('table', { class: 'cards' },
    h('thead', null, h('tr', null, ['Type', 'Status', 'Reason', 'Message', 'Since'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, conditions.map((c) => h('tr', null,
      h('td', { 'data-label': 'Type' }, c.type), h('td', { 'data-label': 'Status' }, c.status),
      h('td', { 'data-label': 'Reason' }, c.reason || ''), h('td', { 'data-label': 'Message' }, c.message || ''),
      h('td', { 'data-label': 'Since' }, timeEl(c.lastTransitionTime, true))))));
}

/**
 * @param {number} gen the navigation this view belongs to
 * @param {string} namespace
 * @param {string} name
 */
export async function detailView(gen, namespace, name) {
  const model = await loadModel();
  /** @type {{ data: ScheduledRun }} */
  const first = await call('GET', srPath(namespace, name));
  let sr = first.data;
  let access = await accessFor(namespace);
  if (!current(gen)) return;
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
      actionsFor(sr, access, refresh, 'detail'));
    fill(summary, h('h2', { id: 'h-spec' }, 'Spec'), specList(model, sr));
    fill(conditions, conditionsTable(sr));
    const open = new Set([...history.querySelectorAll('details[open]')]
      .map((d) => (d instanceof HTMLElement ? d.dataset['id'] || '' : '')));
    fill(history, historyTable(sr, open));
  };

  const drawNext = async () => {
    try {
      /** @type {{ data: NextRuns }} */
      const { data } = await call('GET', `${srPath(namespace, name)}/next?count=${PREVIEW_COUNT}`);
      if (!current(gen)) return;
      fill(nextBox,
        data.suspended ? h('p', { class: 'sub' }, 'Suspended: these are the times it would fire.') : null,
        policyNotes(data.notes),
        data.times.length ? fireTimesTable(data.times, data.timeZone, null) : noFireTimes(data.notes));
    } catch (err) {
      fill(nextBox, h('p', { class: 'error' }, messageOf(err)));
    }
  };

  async function refresh() {
    /** @type {{ data: ScheduledRun }} */
    let answer;
    try {
      answer = await call('GET', srPath(namespace, name));
    } catch (err) {
      if (statusOf(err) === 404 && current(gen)) {
        toast(`${name} no longer exists`, true);
        location.hash = '#/';
        return;
      }
      throw err;
    }
    access = await accessFor(namespace);
    if (!current(gen)) return;
    sr = answer.data;
    updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')} · refreshes every ${DETAIL_POLL_MS / 1000} s`;
    const next = JSON.stringify([sr.metadata.resourceVersion, access]);
    if (next !== signature) {
      const specChanged = signature && JSON.parse(signature)[0] !== sr.metadata.resourceVersion;
      signature = next;
      draw();
      if (specChanged) drawNext();
    }
  }

  signature = JSON.stringify([sr.metadata.resourceVersion, access]);
  draw();
  show(head, updated,
    h('div', { class: 'grid' }, summary,
      h('section', { 'aria-labelledby': 'h-cond' }, h('h2', { id: 'h-cond' }, 'Conditions'), conditions,
        h('h2', { id: 'h-next' }, 'Next fire times'), nextBox)),
    h('section', { 'aria-labelledby': 'h-runs' }, h('h2', { id: 'h-runs' }, 'Run history'),
      h('p', { class: 'sub' }, `Newest first; the newest ${model.valueOf(sr.spec, 'maxRunHistory')} runs are kept. Times in your browser's zone (${BROWSER_ZONE}).`),
      history));
  focusHeading();
  drawNext();
  every(gen, DETAIL_POLL_MS, refresh);
}
