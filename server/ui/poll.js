// @ts-check
// Polling: a view redraws what changed every few seconds while it is on screen and the tab is
// visible, and stops once the user has navigated away.
import { statusOf, messageOf } from './api.js';
import { toast } from './dom.js';
import { current } from './session.js';

/**
 * Call `fn` every `ms` while the view of navigation `gen` is current.
 * @param {number} gen
 * @param {number} ms
 * @param {() => Promise<unknown>} fn
 */
export function every(gen, ms, fn) {
  const tick = async () => {
    if (!current(gen)) return;
    if (!document.hidden) {
      try { await fn(); } catch (err) { if (statusOf(err) !== 401) toast(`Refresh failed: ${messageOf(err)}`, true); }
    }
    if (current(gen)) setTimeout(tick, ms);
  };
  setTimeout(tick, ms);
}
