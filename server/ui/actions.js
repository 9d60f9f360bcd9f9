// @ts-check
// The actions on one ScheduledRun (run now, suspend or resume, edit, delete): offered only when
// the caller's RBAC allows them (/api/access), saying which permissions are missing when not.
import { call, messageOf, srPath, srRoute } from './api.js';
import { confirmDialog, h, toast } from './dom.js';
import { ACTION } from './names.js';
import { isHeld } from './pieces.js';

/** @typedef {import('./types.js').Access} Access */
/** @typedef {import('./types.js').ScheduledRun} ScheduledRun */
/** @typedef {import('./types.js').TriggeredRun} TriggeredRun */

/**
 * Why an action is refused, from the permissions the server says the caller lacks.
 * @param {Access} access
 * @param {string} action
 */
export function notAllowed(access, action) {
  const lacking = (access.missing || {})[action] || [];
  if (lacking.length === 0) return 'Not allowed in this namespace';
  const needs = lacking.map((p) => `${p.verb} on ${p.resource}`).join(', ');
  return `Not allowed: needs ${needs} in this namespace`;
}

/**
 * @param {string} label
 * @param {string} action the name /api/access gives it
 * @param {Access} access
 * @param {string} key the data-key that keeps focus across redraws
 * @param {() => void} onclick
 * @param {string} [cls]
 */
function actionButton(label, action, access, key, onclick, cls) {
  const allowed = Boolean(access.actions[action]);
  return h('button', {
    type: 'button', class: cls || null, 'data-key': key, 'data-action': action,
    disabled: !allowed, title: allowed ? null : notAllowed(access, action),
    onclick: allowed ? onclick : null,
  }, label);
}

/**
 * Carry out an action and say how it went; true when it worked.
 * @param {string} what
 * @param {() => Promise<string>} fn its message when done
 */
async function runAction(what, fn) {
  try {
    toast(await fn());
    return true;
  } catch (err) {
    toast(`${what} failed: ${messageOf(err)}`, true);
    return false;
  }
}

/**
 * The action buttons of one ScheduledRun.
 * @param {ScheduledRun} sr
 * @param {Access} access
 * @param {() => unknown} refresh what to redraw after an action
 * @param {string} where the view ('list' or 'detail'), part of each button's data-key
 */
export function actionsFor(sr, access, refresh, where) {
  const { namespace, name } = sr.metadata;
  const held = isHeld(sr);
  const key = (/** @type {string} */ a) => `${where}:${a}:${namespace}/${name}`;
  const trigger = () => runAction('Run now', async () => {
    /** @type {{ data: TriggeredRun }} */
    const answer = await call('POST', `${srPath(namespace, name)}/trigger`, undefined,
      { 'Idempotency-Key': crypto.randomUUID() });
    refresh();
    return `Started run ${answer.data.id}`;
  });
  const toggle = () => runAction(held ? 'Resume' : 'Suspend', async () => {
    const path = srPath(namespace, name);
    await call('POST', held ? `${path}/resume` : `${path}/suspend`);
    refresh();
    return `${name} ${held ? 'resumed' : 'suspended'}`;
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
  const edit = access.actions[ACTION.update]
    ? h('a', { class: 'button', href: `${srRoute(namespace, name)}/edit`, 'data-key': key('edit') }, 'Edit')
    : h('button', { type: 'button', disabled: true, title: notAllowed(access, ACTION.update), 'data-action': ACTION.update }, 'Edit');
  return h('div', { class: 'actions', role: 'group', 'aria-label': `Actions for ${name}` },
    actionButton('Run now', ACTION.trigger, access, key(ACTION.trigger), trigger, 'primary'),
    actionButton(held ? 'Resume' : 'Suspend', ACTION.suspend, access, key(ACTION.suspend), toggle),
    edit,
    actionButton('Delete', ACTION.delete, access, key(ACTION.delete), remove, 'danger'));
}
