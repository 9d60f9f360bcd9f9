// @ts-check
// How the UI presents the spec fields it has words for: a label, the group it sits in, an
// example or what "unset" means. Presentation only: which fields exist, their types, defaults,
// bounds, allowed values and help text come from the server (model.js); a field the server has
// and this table does not is still shown and edited, under "Other settings", by its name.
// tests/unit/test_ui_modules.py fails when a key here is not a field of the CRD.

/**
 * @typedef {'what' | 'run' | 'limits' | 'other'} Group
 * @typedef {object} FieldLook
 * @property {string} label the form's label
 * @property {string} [term] the detail view's name for it, when not the label
 * @property {Group} group
 * @property {string} [example] a placeholder that shows the form of a value (no default)
 * @property {string} [unset] what leaving it unset means, when the CRD gives no default
 * @property {string} [unit] after its number in the detail view
 * @property {'zone' | 'multiline' | 'target'} [input] a control other than its type's
 * @property {boolean} [counted] shown with status.scheduledRuns so far (the detail view)
 * @property {boolean} [timing] decides when it fires: no fire times while it has a problem
 */

/** The form's fieldsets and the detail view's order, each with its legend. */
export const GROUPS = /** @type {const} */ ([
  ['what', 'What and when'],
  ['run', 'Run settings'],
  ['limits', 'Limits'],
  ['other', 'Other settings'],
]);

/** @type {Readonly<Record<string, FieldLook>>} */
export const LOOKS = Object.freeze({
  schedule: { label: 'Schedule', group: 'what', example: '0 2 * * *', timing: true },
  timeZone: { label: 'Time zone', group: 'what', input: 'zone', timing: true },
  targetRef: { label: 'Agent', term: 'Target', group: 'what', input: 'target' },
  prompt: { label: 'Prompt', group: 'what', input: 'multiline' },
  promptVariables: { label: 'Fill in run variables', term: 'Prompt variables', group: 'what' },
  suspend: { label: 'Suspended', group: 'run' },
  concurrencyPolicy: { label: 'Concurrency policy', group: 'run' },
  startingDeadlineSeconds: { label: 'Starting deadline (seconds)', term: 'Starting deadline', group: 'run', unset: 'none', unit: 's' },
  timeout: { label: 'Timeout', group: 'run' },
  maxRunHistory: { label: 'Runs kept in history', term: 'Run history kept', group: 'run' },
  includePreviousRun: { label: 'Include the previous run', term: 'Include previous run', group: 'run' },
  pauseAfterFailures: { label: 'Pause after failures', group: 'limits', unset: 'never', unit: 'in a row' },
  endTime: { label: 'End time', group: 'limits', example: '2026-12-31T23:00:00Z', unset: 'none' },
  maxRuns: { label: 'Most scheduled runs', group: 'limits', unset: 'no limit', counted: true },
});

/**
 * A field's look: its entry above, or its own name under "Other settings".
 * @param {string} name
 * @returns {FieldLook}
 */
export const lookOf = (name) => LOOKS[name] || { label: name, group: 'other' };

/**
 * The spec fields in the order the UI shows them: by group, then in the CRD's order.
 * @template T
 * @param {[string, T][]} fields the model's fields, in the CRD's order
 * @returns {[string, T][]}
 */
export function ordered(fields) {
  const rank = (/** @type {string} */ name) => GROUPS.findIndex(([group]) => group === lookOf(name).group);
  return [...fields].sort(([a], [b]) => rank(a) - rank(b));
}
