// @ts-check
// DOM helpers: the one element builder (text nodes and fixed attribute names only, never HTML
// from data), the page's main region, the toast and the confirm dialog.

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Child | (Child | (Child | Child[])[])[]} Children lists nest (three deep is plenty) */
/** @typedef {Record<string, unknown>} Attrs */

/**
 * An element with attributes and children. `on*` attributes become listeners, `class` the class
 * name, `true` an empty attribute; null, undefined and false are left out. Every child that is
 * not a node becomes a text node, so text from the cluster can never become markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/**
 * The children that are present, flattened (null would otherwise show as the text "null").
 * @param {Children[]} children
 * @returns {(Node | string)[]}
 */
function present(children) {
  /** @type {(Node | string)[]} */
  const out = [];
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    out.push(child instanceof Node ? child : String(child));
  }
  return out;
}

/**
 * @param {Element} el
 * @param {Children[]} children
 */
function append(el, children) {
  el.append(...present(children));
}

/**
 * Replace an element's children, skipping absent parts.
 * @template {Element} E
 * @param {E} el
 * @param {...Children} children
 * @returns {E}
 */
export function fill(el, ...children) {
  el.replaceChildren(...present(children));
  return el;
}

/**
 * An element of the page that must exist (index.html holds it).
 * @template {HTMLElement} E
 * @param {string} id
 * @param {new () => E} type
 * @returns {E}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return el;
}

/** @returns {HTMLElement} */
export const main = () => byId('main', HTMLElement);

/** The data-key of the focused element, if any: views give it back focus after a redraw. */
export function focusedKey() {
  const active = document.activeElement;
  return active instanceof HTMLElement ? active.dataset['key'] ?? null : null;
}

/**
 * Focus the element of `within` with this data-key, if it is there.
 * @param {ParentNode} within
 * @param {string | null} key
 */
export function refocus(within, key) {
  if (!key) return;
  const again = within.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (again instanceof HTMLElement) again.focus();
}

/**
 * Show a view in the main region, keeping the focus on the element it had (by data-key).
 * @param {...Children} nodes
 */
export function show(...nodes) {
  const focused = focusedKey();
  fill(main(), ...nodes);
  refocus(main(), focused);
}

/** Focus the view's heading, as a page load would for a screen reader. */
export function focusHeading() {
  const heading = main().querySelector('h1');
  if (heading) heading.focus({ preventScroll: true });
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/**
 * A short message in the live region, for six seconds.
 * @param {string} text
 * @param {boolean} [bad]
 */
export function toast(text, bad) {
  const box = byId('toast', HTMLElement);
  box.className = bad ? 'bad' : '';
  box.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.textContent = ''; }, 6000);
}

/**
 * Ask before something that cannot be undone; true when the user confirms.
 * @param {string} text
 * @param {string} okLabel
 * @returns {Promise<boolean>}
 */
export function confirmDialog(text, okLabel) {
  const dialog = byId('confirm', HTMLDialogElement);
  byId('confirm-text', HTMLElement).textContent = text;
  byId('confirm-ok', HTMLButtonElement).textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}
