// @ts-check
// The form's agent picker: the namespace's agents by kind (the kinds the CRD allows), or a name
// typed by hand for an agent that is not there yet.
import { call } from '../api.js';
import { fill, h } from '../dom.js';
import { lookOf } from '../fields.js';
import { field, textInput } from './form-fields.js';

/** @typedef {import('../model.js').Model} Model */
/** @typedef {import('../types.js').AgentTarget} AgentTarget */
/** @typedef {import('../types.js').TargetRef} TargetRef */
/** @typedef {import('./form-fields.js').Field} Field */

const OTHER = '*other'; // the option "another name"

/**
 * @param {string} value an option's value, KIND/NAME
 * @returns {[string, string]}
 */
function split(value) {
  const [kind, ...rest] = value.split('/');
  return [kind || '', rest.join('/')];
}

/**
 * @param {Model} model
 * @param {string} name the spec field (targetRef)
 * @param {TargetRef | undefined} stored
 * @returns {Field & { load: (namespace: string) => Promise<void> }}
 */
export function targetField(model, name, stored) {
  const kinds = model.targetKinds;
  const target = h('select', null);
  const otherKind = h('select', { id: 'targetKind', 'aria-label': 'Target kind' }, kinds.map((k) => h('option', { value: k }, k)));
  const otherName = textInput({ id: 'targetName', 'aria-label': 'Target name', placeholder: 'agent name' });
  const otherBox = h('div', { class: 'other', hidden: true }, otherKind, otherName);
  target.addEventListener('change', () => { otherBox.hidden = target.value !== OTHER; });

  const read = () => {
    const [kind, agent] = target.value === '' || target.value === OTHER
      ? [otherKind.value, otherName.value.trim()] : split(target.value);
    return { ...(model.targetGroup ? { apiGroup: model.targetGroup } : {}), kind, name: agent };
  };

  /** Offer the namespace's agents, keeping the choice (or the stored target) if it is there. */
  const load = async (/** @type {string} */ namespace) => {
    /** @type {AgentTarget[]} */
    let agents = [];
    try {
      /** @type {{ data: AgentTarget[] }} */
      const answer = await call('GET', `/api/agents?namespace=${encodeURIComponent(namespace)}`);
      agents = answer.data;
    } catch { agents = []; }
    const had = stored && stored.name ? `${stored.kind || kinds[0]}/${stored.name}` : '';
    const previous = target.value || had;
    const groups = kinds.map((kind) => {
      const list = agents.filter((a) => a.kind === kind);
      return list.length ? h('optgroup', { label: `${kind}s` }, list.map((a) => h('option', { value: `${kind}/${a.name}` }, a.name, a.description ? ` — ${a.description}` : ''))) : null;
    });
    fill(target, h('option', { value: '' }, agents.length ? 'Choose an agent…' : 'No agents in this namespace'), ...groups,
      h('option', { value: OTHER }, 'Another name (type it)…'));
    const values = [...target.options].map((o) => o.value);
    if (previous && values.includes(previous)) target.value = previous;
    else if (previous && previous !== OTHER) {
      target.value = OTHER;
      [otherKind.value, otherName.value] = split(previous);
    }
    otherBox.hidden = target.value !== OTHER;
  };

  const made = field(name, lookOf(name).label, target, model.describe(name),
    { after: [otherBox], inputs: [otherKind, otherName], read });
  return { ...made, load };
}
