// @ts-check
// The form's live check: the server's validator (`POST /api/scheduledruns/validate`) on every
// edit, a moment after the user stops typing; its problems on the fields they belong to (only
// the fields the user has touched, until a submit), its fire times and daylight-saving notes.
import { call, messageOf } from '../api.js';
import { fill, h } from '../dom.js';
import { lookOf } from '../fields.js';
import { dstList, fireTimesTable, noFireTimes, policyNotes } from '../firetimes.js';
import { current } from '../session.js';

/** @typedef {import('../types.js').Problem} Problem */
/** @typedef {import('../types.js').Verdict} Verdict */
/** @typedef {import('./form-fields.js').Field} Field */

const VALIDATE_DELAY_MS = 250;
const PREVIEW_COUNT = 5;

/**
 * The form's field that shows a validator problem: by the field's path (metadata.name,
 * spec.schedule, spec.targetRef.name...), else 'general'.
 * @param {Map<string, Field>} fields
 * @param {string} path
 */
function fieldOf(fields, path) {
  const [top, key] = path.split('.');
  const id = top === 'metadata' || top === 'spec' ? key || '' : '';
  return fields.has(id) ? id : 'general';
}

/**
 * @param {{ gen: number, fields: Map<string, Field>, build: () => unknown, verdict: HTMLElement,
 *   preview: HTMLElement, dstBox: HTMLElement, general: HTMLElement }} form
 */
export function checker(form) {
  const { gen, fields, verdict, preview, dstBox, general } = form;
  /** @type {Set<string>} the fields the user has edited: only their problems show */
  const touched = new Set();
  let sequence = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /**
   * @param {Problem[]} problems
   * @param {boolean} all show every field's problems, touched or not
   */
  const showProblems = (problems, all) => {
    /** @type {Map<string, Problem[]>} */
    const byField = new Map();
    for (const p of problems) {
      const id = fieldOf(fields, p.field);
      byField.set(id, [...(byField.get(id) || []), p]);
    }
    for (const [id, f] of fields) {
      const list = (all || touched.has(id)) ? (byField.get(id) || []) : [];
      f.error.textContent = list.map((p) => p.message).join(' ');
      for (const input of f.inputs) input.setAttribute('aria-invalid', list.length ? 'true' : 'false');
    }
    fill(general, ...(byField.get('general') || []).map((p) => h('p', null, `${p.field || 'object'}: ${p.message}`)));
  };

  /**
   * Ask the validator about `body` (the form as it is); its verdict, shown unless a later check
   * has started since; null when the check failed or the user has left the page.
   * @param {boolean} all
   * @param {unknown} [body]
   * @returns {Promise<Verdict | null>}
   */
  const validate = async (all, body = form.build()) => {
    const mine = ++sequence;
    /** @type {{ data: Verdict }} */
    let answer;
    try {
      answer = await call('POST', `/api/scheduledruns/validate?count=${PREVIEW_COUNT}`, body);
    } catch (err) {
      if (mine === sequence) verdict.textContent = `Cannot check: ${messageOf(err)}`;
      return null;
    }
    if (!current(gen)) return null;
    const v = answer.data;
    if (mine !== sequence) return v; // a later check shows its own verdict
    showProblems(v.problems, all);
    verdict.className = v.valid ? 'ok' : 'bad';
    verdict.textContent = v.valid ? 'Valid: the operator will accept this.'
      : `${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} to fix${all ? '' : ' (shown on the fields you have filled)'}.`;
    const zone = v.timeZone;
    const when = v.problems.some((p) => lookOf(fieldOf(fields, p.field)).timing);
    const spread = v.suggestedSchedule ? h('p', { class: 'policy-notes' },
      'Other ScheduledRuns fire in the same minute; ', h('code', null, v.suggestedSchedule),
      ' keeps the hour and gives this one its own minute.') : null;
    fill(preview, policyNotes(v.notes), spread, v.times.length ? fireTimesTable(v.times, zone, v.dst)
      : when ? h('p', { class: 'empty' }, 'Fix the schedule and time zone to see when it fires.') : noFireTimes(v.notes));
    fill(dstBox, v.times.length ? dstList(v.dst, zone) : null);
    return v;
  };

  /** The user edited a field: check again once they pause. @param {string} id */
  const edited = (id) => {
    touched.add(id);
    clearTimeout(timer);
    timer = setTimeout(() => validate(false), VALIDATE_DELAY_MS);
  };

  /** A submit checks now: no check of an older edit may start after it. */
  const cancel = () => clearTimeout(timer);

  return { validate, edited, cancel, showProblems, touched };
}
