// @ts-check
// Times: parsing the API's RFC 3339 strings and showing them in a zone, relative to now, or as
// a duration.
import { h } from './dom.js';

/** The browser's own zone: the second column of every fire-time table. */
export const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * @param {string | null | undefined} iso
 * @returns {Date | null}
 */
export function parseTime(iso) {
  const t = iso ? new Date(iso) : null;
  return t && !Number.isNaN(t.getTime()) ? t : null;
}

/**
 * @param {Date} date
 * @param {string} zone
 */
export function formatIn(date, zone) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, weekday: 'short', year: 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short',
  }).format(date);
}

/**
 * A fire time: to the minute, with the zone's abbreviation.
 * @param {Date} date
 * @param {string} zone
 */
export function formatFire(date, zone) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, weekday: 'short', year: 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false, timeZoneName: 'short',
  }).format(date).replace(',', '');
}

/** @param {Date} date */
function formatShort(date) {
  const sameYear = date.getFullYear() === new Date().getFullYear();
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: BROWSER_ZONE, year: sameYear ? undefined : 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(date);
}

/** @param {Date} date */
function relative(date) {
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  /** @type {[number, Intl.RelativeTimeFormatUnit]} */
  const [value, unit] = abs < 60 ? [seconds, 'second'] : abs < 3600
    ? [Math.round(seconds / 60), 'minute'] : abs < 86400
      ? [Math.round(seconds / 3600), 'hour'] : [Math.round(seconds / 86400), 'day'];
  return new Intl.RelativeTimeFormat('en', { numeric: 'auto' }).format(value, unit);
}

/**
 * A <time> in the browser's zone (relative to now when asked), or a dash when there is none.
 * @param {string | null | undefined} iso
 * @param {boolean} [withRelative]
 * @returns {HTMLElement}
 */
export function timeEl(iso, withRelative) {
  const date = parseTime(iso);
  if (!date) return h('span', { class: 'muted' }, '—');
  const text = formatShort(date);
  return h('time', { datetime: date.toISOString().replace('.000Z', 'Z'), title: formatIn(date, BROWSER_ZONE) },
    withRelative ? `${relative(date)}` : text, withRelative ? h('span', { class: 'sub' }, text) : null);
}

/**
 * @param {string | undefined} startIso
 * @param {string | undefined} endIso
 */
export function duration(startIso, endIso) {
  const start = parseTime(startIso);
  const end = parseTime(endIso);
  if (!start || !end) return '—';
  const ms = end.getTime() - start.getTime();
  if (ms < 1000) return '< 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
