// @ts-check
// The values of the API's enums that this UI gives a meaning of its own (a badge's colour, which
// button Suspend turns into). Only these are named here, nowhere else in the UI; model.js
// checks each against the server's document when it loads it, and
// tests/unit/test_ui_modules.py against the server's definitions, so a renamed value fails
// loudly instead of silently showing the wrong thing.

/** status.conditions[].type: the document's ConditionType. */
export const CONDITION = Object.freeze({
  accepted: 'Accepted', // the operator's verdict on the spec
  paused: 'Paused', // held after failures: Resume lifts it, as it lifts spec.suspend
});

/** status.lastRunStatus and status.runHistory[].status: the CRD's enum. */
export const RUN_STATUS = Object.freeze({
  succeeded: 'Succeeded', // a green badge
  pending: 'Pending', // a grey one; every other status is red
});

/** The actions /api/access answers for (server/access.py's ACTIONS). */
export const ACTION = Object.freeze({
  create: 'create',
  update: 'update',
  suspend: 'suspend', // suspend and resume
  delete: 'delete',
  trigger: 'trigger', // run now
});

/** A daylight-saving change's kind (the document's DstChange). */
export const DST = Object.freeze({
  skip: 'skip', // clocks go forward: a wall-clock time does not exist that day
  repeat: 'repeat', // clocks go back: a wall-clock time happens twice
});
