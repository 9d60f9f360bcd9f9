// @ts-check
// The form's fields: a labelled control with its help (the CRD's description) and its error
// line, made for a spec field from its schema (a checkbox, a list of the allowed values, a
// number within its bounds, text) with the CRD's default as its placeholder.
import { h } from '../dom.js';
import { lookOf } from '../fields.js';
import { BROWSER_ZONE } from '../time.js';

/** @typedef {import('../model.js').Model} Model */
/** @typedef {import('../dom.js').Children} Children */

/**
 * @typedef {object} Field
 * @property {string} id the control's id: the spec field's name (or name, namespace)
 * @property {HTMLElement[]} parts what the form places: the field, and what follows it
 * @property {HTMLElement} error where its problems show
 * @property {HTMLElement[]} inputs what the user edits; aria-invalid goes on each
 * @property {() => unknown} read the value for the spec; undefined leaves the field out
 */

/** A help text longer than this shows its first sentences and the rest on demand. */
const HELP_SHORT = 160;

/**
 * A field's documentation: as many whole sentences as fit in HELP_SHORT characters (else the
 * words that fit), the rest on demand.
 * @param {string} id
 * @param {string} text
 */
function helpText(id, text) {
  if (text.length <= HELP_SHORT) return h('div', { class: 'help', id: `${id}-help` }, text);
  const ends = [...text.slice(0, HELP_SHORT + 1).matchAll(/\. /g)].map((m) => (m.index || 0) + 1);
  const last = ends[ends.length - 1] || 0;
  const sentence = last > 20;
  const cut = sentence ? last : text.lastIndexOf(' ', HELP_SHORT);
  return h('div', { class: 'help', id: `${id}-help` }, text.slice(0, cut), sentence ? ' ' : '… ',
    h('details', { class: 'more' }, h('summary', null, 'More'), text.slice(cut).trim()));
}

/**
 * A labelled control with its help and error line.
 * @param {string} id
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {string} help
 * @param {{ read: () => unknown, after?: HTMLElement[], inputs?: HTMLElement[], check?: boolean }} how
 * @returns {Field}
 */
export function field(id, label, control, help, how) {
  control.id = id;
  control.name = id;
  control.setAttribute('aria-describedby', `${id}-help ${id}-error`);
  const error = h('p', { class: 'error', id: `${id}-error` });
  const row = h('div', { class: how.check ? 'field check' : 'field' }, h('label', { for: id }, label), control,
    helpText(id, help), error);
  return { id, parts: [row, ...(how.after || [])], error, inputs: [control, ...(how.inputs || [])], read: how.read };
}

/** @param {Record<string, unknown>} attrs */
export const textInput = (attrs) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });

/**
 * @param {unknown} value
 * @returns {string}
 */
const asText = (value) => (value === undefined || value === null ? '' : String(value));

/**
 * The control for one spec field, from its schema; null for a field no control can edit (an
 * object or a list: the form keeps its stored value as it is).
 * @param {Model} model
 * @param {string} name
 * @param {unknown} value the stored value (undefined for a new object)
 * @returns {Field | null}
 */
export function specField(model, name, value) {
  const schema = model.field(name) || {};
  const look = lookOf(name);
  const help = model.describe(name);
  const fallback = model.defaultOf(name);
  const required = model.isRequired(name);

  if (schema.type === 'boolean') {
    const box = h('input', { type: 'checkbox', checked: Boolean(value ?? fallback) });
    return field(name, look.label, box, help, { check: true, read: () => (box.checked ? true : undefined) });
  }
  if (schema.enum) {
    const chosen = asText(value ?? fallback);
    const select = h('select', null, schema.enum.map(String).map((v) => h('option', { value: v, selected: v === chosen }, v)));
    return field(name, look.label, select, help, { read: () => select.value });
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    const number = textInput({
      type: 'number', inputmode: 'numeric', step: schema.type === 'integer' ? 1 : null,
      min: schema.minimum ?? null, max: schema.maximum ?? null, required,
      value: asText(value), placeholder: asText(fallback) || look.unset || look.example || null,
    });
    return field(name, look.label, number, help, { read: () => (number.value === '' ? undefined : Number(number.value)) });
  }
  if (schema.type !== 'string') return null;

  const attrs = { required, maxlength: schema.maxLength ?? null, placeholder: asText(fallback) || look.example || look.unset || null };
  /** @param {string} text */
  const read = (text) => (required ? text : text.trim() || undefined);
  if (look.input === 'multiline') {
    const area = h('textarea', { rows: 6, ...attrs }, asText(value));
    const count = h('span', { class: 'sub', 'aria-live': 'off' });
    const counted = () => { count.textContent = `${area.value.length}${schema.maxLength ? ` / ${schema.maxLength}` : ''} characters`; };
    area.addEventListener('input', counted);
    counted();
    return field(name, look.label, area, help, { after: [count], read: () => read(area.value) });
  }
  const input = textInput({ ...attrs, value: asText(value), list: look.input === 'zone' ? 'zones' : null });
  if (look.input !== 'zone') return field(name, look.label, input, help, { read: () => read(input.value) });
  const zones = h('datalist', { id: 'zones' },
    (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [BROWSER_ZONE]).map((z) => h('option', { value: z })));
  const useMine = h('button', {
    type: 'button', class: 'link',
    onclick: () => { input.value = BROWSER_ZONE; input.dispatchEvent(new Event('input')); },
  }, `Use my zone (${BROWSER_ZONE})`);
  return field(name, look.label, input, help, { after: [useMine, zones], read: () => read(input.value) });
}
