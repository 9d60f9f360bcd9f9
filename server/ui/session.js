// @ts-check
// What this tab holds: the UI's settings from the server, the bearer token (this tab's
// sessionStorage only, sent as an Authorization header, never a cookie) and the navigation
// counter that lets a view drop the late answers of a page the user has left.

/** @typedef {import('./types.js').UiConfig} UiConfig */

const TOKEN_KEY = 'scheduledrun.token';

export const session = {
  /** @type {UiConfig} */
  config: { authMode: 'client', sessionUrl: null },
  /** @type {string | null} */
  token: sessionStorage.getItem(TOKEN_KEY),
  gen: 0, // bumped on every navigation: late answers of an old page are dropped
};

/** Whether a view started at navigation `gen` is still the one on screen. */
export const current = (/** @type {number} */ gen) => gen === session.gen;

/** Whether the page must ask for a token before anything else. */
export const needsSignIn = () => session.config.authMode === 'client' && !session.token;

/** @param {string} token */
export function keepToken(token) {
  session.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  session.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
}
