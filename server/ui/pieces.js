// @ts-check
// Pieces the list and the detail view share: the Accepted verdict and the conditions that hold
// runs back, a run's status badge, the target and the schedule of a spec.
import { h } from './dom.js';
import { CONDITION, RUN_STATUS } from './names.js';

/** @typedef {import('./types.js').ScheduledRun} ScheduledRun */
/** @typedef {import('./types.js').Spec} Spec */
/** @typedef {import('./model.js').Model} Model */

/** @param {ScheduledRun} sr */
export const conditionsOf = (sr) => (sr.status && sr.status.conditions) || [];

/**
 * Whether a condition of this type is True.
 * @param {ScheduledRun} sr
 * @param {string} type
 */
export const isTrue = (sr, type) => conditionsOf(sr).some((c) => c.type === type && c.status === 'True');

/**
 * Suspended, or paused after failures: Resume lifts both (the API names it).
 * @param {ScheduledRun} sr
 */
export const isHeld = (sr) => Boolean(sr.spec && sr.spec.suspend) || isTrue(sr, CONDITION.paused);

/**
 * Conditions other than Accepted that hold scheduled runs back (Paused, Stopped), when true.
 * @param {ScheduledRun} sr
 */
function holds(sr) {
  return conditionsOf(sr).filter((c) => c.type !== CONDITION.accepted && c.status === 'True')
    .map((c) => h('span', { class: 'badge wait', title: c.message || c.reason || '' }, c.type));
}

/** @param {ScheduledRun} sr */
export function acceptedEl(sr) {
  const cond = conditionsOf(sr).find((c) => c.type === CONDITION.accepted);
  if (!cond) return h('span', { class: 'badge wait' }, 'Not yet seen');
  if (cond.status === 'True') return h('span', null, h('span', { class: 'badge ok' }, CONDITION.accepted), holds(sr));
  return h('span', { class: 'why' }, h('span', { class: 'badge bad' }, cond.reason || 'Not accepted'),
    h('span', { class: 'sub' }, cond.message || ''));
}

/** @param {string | undefined} status */
export function statusBadge(status) {
  if (!status) return h('span', { class: 'muted' }, 'never run');
  const cls = status === RUN_STATUS.succeeded ? 'ok' : status === RUN_STATUS.pending ? 'wait' : 'bad';
  return h('span', { class: `badge ${cls}`, 'data-status': status }, status);
}

/** @param {Spec} spec */
export function targetText(spec) {
  const ref = (spec && spec.targetRef) || {};
  return `${ref.kind || '?'}/${ref.name || '?'}`;
}

/**
 * @param {Model} model
 * @param {Spec} spec
 */
export function scheduleEl(model, spec) {
  return h('span', null, h('code', null, spec.schedule || ''),
    h('span', { class: 'sub' }, String(model.valueOf(spec, 'timeZone') ?? '')));
}
