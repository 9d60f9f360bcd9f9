// @ts-check
// Create and edit: a form drawn from the server's schema of a ScheduledRun (every spec field it
// has, grouped as fields.js says), checked by the server's validator as the user types, saved
// with the object's resourceVersion so a concurrent spec change is never overwritten.
import { accessFor, call, messageOf, srPath, srRoute, statusOf, ApiError } from '../api.js';
import { fill, focusHeading, h, main, show, toast } from '../dom.js';
import { GROUPS, lookOf, ordered } from '../fields.js';
import { loadModel } from '../model.js';
import { ACTION } from '../names.js';
import { notAllowed } from '../actions.js';
import { current } from '../session.js';
import { checker } from './form-check.js';
import { field, specField, textInput } from './form-fields.js';
import { targetField } from './form-target.js';

/** @typedef {import('../types.js').ScheduledRun} ScheduledRun */
/** @typedef {import('../types.js').AgentTarget} AgentTarget */
/** @typedef {import('./form-fields.js').Field} Field */

/** Where the form was opened: a stored object (edit) or none (create). */
/** @typedef {{ namespace: string, name: string } | null} Editing */

/** The namespaces the user has ScheduledRuns or agents in: the namespace field's suggestions. */
async function knownNamespaces() {
  /** @type {Promise<{ data: ScheduledRun[] }>} */
  const runsCall = call('GET', '/api/scheduledruns');
  /** @type {Promise<{ data: AgentTarget[] }>} */
  const agentsCall = call('GET', '/api/agents');
  const [runs, agents] = await Promise.all([
    runsCall.catch(() => ({ data: [] })),
    agentsCall.catch(() => ({ data: [] })),
  ]);
  return [...new Set([...runs.data.map((s) => s.metadata.namespace), ...agents.data.map((a) => a.namespace)])].sort();
}

/**
 * Save: create, or replace with the resourceVersion the form was opened with.
 * @param {Editing} editing
 * @param {ScheduledRun} body
 * @param {{ spec: unknown, etag: string | null }} opened
 */
async function save(editing, body, opened) {
  if (!editing) {
    await call('POST', '/api/scheduledruns', body);
    return `${body.metadata.name} created`;
  }
  const path = srPath(editing.namespace, editing.name);
  let etag = opened.etag;
  const put = () => call('PUT', path, body, etag ? { 'If-Match': etag } : {});
  try {
    await put();
  } catch (err) {
    // The operator and the runner write status all the time, and each write is a new
    // resourceVersion: save again only if nobody changed the spec since the form opened.
    if (statusOf(err) !== 409) throw err;
    /** @type {{ data: ScheduledRun, etag: string | null }} */
    const fresh = await call('GET', path);
    if (JSON.stringify(fresh.data.spec) !== JSON.stringify(opened.spec)) throw err;
    etag = fresh.etag;
    await put();
  }
  return `${body.metadata.name} saved`;
}

/**
 * @param {number} gen the navigation this view belongs to
 * @param {Editing} editing
 * @param {string | null} [wantedNamespace] the namespace to suggest for a new object
 */
export async function formView(gen, editing, wantedNamespace) {
  const model = await loadModel();
  /** @type {ScheduledRun | null} */
  let stored = null;
  /** @type {string | null} */
  let etag = null;
  if (editing) {
    /** @type {{ data: ScheduledRun, etag: string | null }} */
    const answer = await call('GET', srPath(editing.namespace, editing.name));
    stored = answer.data;
    etag = answer.etag;
  }
  const namespaces = editing ? [editing.namespace] : await knownNamespaces();
  if (!current(gen)) return;
  const spec = stored ? stored.spec : {};

  const namespace = textInput({ list: 'namespaces', value: editing ? editing.namespace : (wantedNamespace || namespaces[0] || 'default'), disabled: Boolean(editing), required: true });
  const nameInput = textInput({ value: editing ? editing.name : '', disabled: Boolean(editing), required: true, maxlength: 253 });
  const meta = [
    field('namespace', 'Namespace', namespace, 'Where the ScheduledRun lives; its target must be in the same namespace.', { read: () => namespace.value.trim() }),
    field('name', 'Name', nameInput, 'A DNS name: lower-case letters, digits and dashes. It cannot be changed later.', { read: () => nameInput.value.trim() }),
  ];
  /** @type {ReturnType<typeof targetField> | null} */
  let target = null;
  /** @type {[string, Field][]} the spec fields this form edits; the others are kept as stored */
  const edited = [];
  for (const [name] of ordered(model.fields())) {
    const made = lookOf(name).input === 'target'
      ? (target = targetField(model, name, spec.targetRef)) : specField(model, name, spec[name]);
    if (made) edited.push([name, made]);
  }
  /** @type {Map<string, Field>} */
  const fields = new Map([...meta, ...edited.map(([, f]) => f)].map((f) => [f.id, f]));

  /** @returns {ScheduledRun} */
  const build = () => {
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const [name, value] of Object.entries(spec)) out[name] = value; // kept unless edited below
    for (const [name, f] of edited) {
      const value = f.read();
      if (value === undefined) delete out[name];
      else out[name] = value;
    }
    return { apiVersion: model.apiVersion, kind: model.kind,
      metadata: { name: nameInput.value.trim(), namespace: namespace.value.trim() }, spec: out };
  };

  const general = h('div', { class: 'error', id: 'general-error', role: 'alert' });
  const verdict = h('p', { id: 'verdict', role: 'status', 'aria-live': 'polite' });
  const preview = h('div', { id: 'preview' });
  const dstBox = h('div', { id: 'dst' });
  const canWrite = h('p', { class: 'error', id: 'rbac' });
  const submit = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save' : 'Create');
  const check = checker({ gen, fields, build, verdict, preview, dstBox, general });

  const checkAccess = async () => {
    const ns = namespace.value.trim();
    if (!ns) return;
    const access = await accessFor(ns);
    const action = editing ? ACTION.update : ACTION.create;
    const allowed = Boolean(access.actions[action]);
    submit.disabled = !allowed;
    canWrite.textContent = allowed ? '' : notAllowed(access, action);
  };

  const onSubmit = async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    // Leaving a field fires its change event just before this submit: its check is not needed,
    // and the verdict that decides is the one on the very body that is saved.
    check.cancel();
    for (const id of fields.keys()) check.touched.add(id);
    const body = build();
    const v = await check.validate(true, body);
    if (!v || !v.valid) {
      const first = main().querySelector('[aria-invalid="true"]');
      if (first instanceof HTMLElement) first.focus();
      return;
    }
    try {
      toast(await save(editing, body, { spec: stored && stored.spec, etag }));
      location.hash = srRoute(body.metadata.namespace, body.metadata.name);
    } catch (err) {
      const problems = err instanceof ApiError ? err.data.problems : undefined;
      if (problems) check.showProblems(problems, true);
      fill(general, h('p', null, statusOf(err) === 409 && editing
        ? 'Someone changed this ScheduledRun since you opened it. Reload the page to edit the current version.'
        : messageOf(err)));
    }
  };

  for (const [id, f] of fields) {
    for (const input of f.inputs) {
      input.addEventListener('input', () => check.edited(id));
      input.addEventListener('change', () => check.edited(id));
    }
  }
  namespace.addEventListener('change', async () => {
    if (target) await target.load(namespace.value.trim());
    checkAccess();
  });

  /** @param {string} group */
  const partsOf = (group) => edited.filter(([name]) => lookOf(name).group === group).flatMap(([, f]) => f.parts);
  /** @param {string} group @param {string} legend @param {HTMLElement[]} [before] */
  const fieldset = (group, legend, before) => {
    const parts = [...(before || []), ...partsOf(group)];
    return parts.length ? h('fieldset', null, h('legend', null, legend), parts) : null;
  };
  const [what, ...settings] = GROUPS;
  const title = editing ? `Edit ${editing.name}` : 'New schedule';
  show(
    h('div', { class: 'head' }, h('div', null, editing ? h('p', { class: 'sub' }, `namespace ${editing.namespace}`) : null, h('h1', { tabindex: -1 }, title))),
    h('form', { class: 'form', novalidate: true, onsubmit: onSubmit },
      h('div', { class: 'cols' },
        fieldset(what[0], what[1], meta.flatMap((f) => f.parts)),
        h('div', { class: 'side' },
          h('section', { class: 'card', 'aria-labelledby': 'h-preview' },
            h('h2', { id: 'h-preview' }, 'Next five fire times'), verdict, preview, dstBox),
          settings.map(([group, legend]) => fieldset(group, legend)))),
      general, canWrite,
      h('div', { class: 'actions' }, submit,
        h('a', { class: 'button', href: editing ? srRoute(editing.namespace, editing.name) : '#/' }, 'Cancel'))),
    h('datalist', { id: 'namespaces' }, namespaces.map((ns) => h('option', { value: ns }))));
  if (target) await target.load(namespace.value.trim());
  checkAccess();
  if (editing) for (const id of fields.keys()) check.touched.add(id); // a stored value is filled
  focusHeading();
  check.validate(Boolean(editing));
}
