// @ts-check
// When a schedule fires, as the server computed it (`/next` and `/validate`): the table of fire
// times in the ScheduledRun's zone and the browser's, the policies that hold some back, and the
// daylight-saving changes that skip a time or fire it twice.
import { h } from './dom.js';
import { DST } from './names.js';
import { BROWSER_ZONE, formatFire, parseTime } from './time.js';

/** @typedef {import('./types.js').FireTime} FireTime */
/** @typedef {import('./types.js').DstChange} DstChange */

const { skip: SKIP, repeat: REPEAT } = DST;

/** @param {string} wall a wall-clock time, RFC 3339 without offset */
const hhmm = (wall) => wall.slice(11, 16);

/**
 * @param {FireTime[]} times
 * @param {string} zone the ScheduledRun's zone
 * @param {DstChange[] | null | undefined} dst
 */
export function fireTimesTable(times, zone, dst) {
  const changes = dst || [];
  const repeats = new Set(changes.filter((n) => n.kind === REPEAT).flatMap((n) => n.times));
  /** @type {HTMLTableRowElement[]} */
  const rows = [];
  const counted = times.some((t) => typeof t.shared === 'number');
  /** @type {Date | null} */
  let previous = null;
  for (const [i, t] of times.entries()) {
    const instant = parseTime(t.time);
    if (!instant) continue;
    for (const note of changes) {
      const at = parseTime(note.at);
      if (note.kind === SKIP && note.times.length && at && (!previous || at > previous) && at <= instant) {
        rows.push(h('tr', { class: 'dst' }, h('td', { colspan: 3 },
          `Skipped: ${note.times.map((w) => w.replace('T', ' ').slice(0, 16)).join(', ')} ${zone} does not exist that day (clocks go forward ${hhmm(note.from)} → ${hhmm(note.to)}).`)));
      }
    }
    const wall = t.local.slice(0, 19);
    rows.push(h('tr', null,
      h('td', null, String(i + 1)),
      h('td', null, h('time', { datetime: t.time, class: 'fire', title: t.local }, formatFire(instant, zone)),
        repeats.has(wall) ? h('span', { class: 'badge wait' }, 'fires twice: clocks go back') : null),
      h('td', null, formatFire(instant, BROWSER_ZONE)),
      counted ? h('td', null, sharedText(t)) : null));
    previous = instant;
  }
  const heads = ['#', `In ${zone}`, `In your browser (${BROWSER_ZONE})`, ...(counted ? ['Same minute'] : [])];
  return h('table', { class: 'preview' },
    h('thead', null, h('tr', null, heads.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows));
}

/**
 * How many other ScheduledRuns fire in a time's minute (validate counts them): the CronJob
 * controller makes a minute's Jobs at a limited rate, so a crowded minute starts runs late.
 * @param {FireTime} t
 */
function sharedText(t) {
  const parts = [];
  if (typeof t.shared === 'number') parts.push(t.shared ? `+${t.shared} in namespace` : 'alone in namespace');
  if (typeof t.sharedInCluster === 'number' && t.sharedInCluster !== t.shared) parts.push(`+${t.sharedInCluster} in cluster`);
  return h('span', { class: t.shared || t.sharedInCluster ? 'badge wait' : 'muted' }, parts.join(', '));
}

/**
 * Why some times will not fire (endTime, maxRuns, paused), as `scheduledrun next` says it.
 * @param {string[] | undefined} notes
 */
export function policyNotes(notes) {
  return notes && notes.length ? h('ul', { class: 'policy-notes' }, notes.map((n) => h('li', null, n))) : null;
}

/**
 * What there is instead of fire times.
 * @param {string[] | undefined} notes
 */
export function noFireTimes(notes) {
  return h('p', { class: 'empty' }, notes && notes.length ? 'No time left to fire.' : 'This schedule has no time it can fire.');
}

/**
 * The zone's daylight-saving changes of the next year and what they do to this schedule.
 * @param {DstChange[] | undefined} dst
 * @param {string} zone
 */
export function dstList(dst, zone) {
  if (!dst) return null;
  const affecting = dst.filter((n) => n.times.length);
  if (dst.length === 0) return h('p', { class: 'sub' }, `${zone} has no daylight-saving change in the next 12 months.`);
  if (affecting.length === 0) return h('p', { class: 'sub' }, `No daylight-saving change of ${zone} in the next 12 months touches this schedule.`);
  return h('ul', { class: 'dst-notes' }, affecting.map((n) => {
    const day = n.from.slice(0, 10);
    const listed = n.times.map(hhmm).join(', ') + (n.more ? ' and more' : '');
    return h('li', null, n.kind === SKIP
      ? `${day}: clocks go forward ${hhmm(n.from)} → ${hhmm(n.to)} in ${zone}; ${listed} does not exist that day and is skipped.`
      : `${day}: clocks go back ${hhmm(n.from)} → ${hhmm(n.to)} in ${zone}; ${listed} happens twice and fires twice.`);
  }));
}
