// @ts-check
// The REST API client: one call() for every request (the bearer token, kagent's envelope, one
// error type), the ScheduledRun paths, and what the caller may do per namespace (/api/access).
import { session } from './session.js';

/** @typedef {import('./types.js').Access} Access */

const ACCESS_TTL_MS = 30000;

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the server could not be reached
   * @param {string} message
   * @param {{ problems?: import('./types.js').Problem[] } | null} [data] the error envelope's data
   */
  constructor(status, message, data) {
    super(message);
    this.status = status;
    this.data = data || {};
  }
}

/** The status of an error from call() (0 for anything else). */
export const statusOf = (/** @type {unknown} */ err) => (err instanceof ApiError ? err.status : 0);

/** The message of any error. */
export const messageOf = (/** @type {unknown} */ err) => (err instanceof Error ? err.message : String(err));

/** @type {(message: string) => void} */
let unauthorized = () => {};

/**
 * What to do when the cluster refuses the token (client auth mode): sign out, in app.js.
 * @param {(message: string) => void} handler
 */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/**
 * One request to the API; the envelope's data, the ETag and the status, or an ApiError.
 * @template [T=unknown]
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 * @returns {Promise<{ data: T, etag: string | null, status: number }>}
 */
export async function call(method, path, body, headers) {
  /** @type {Record<string, string>} */
  const sent = { Accept: 'application/json', ...headers };
  /** @type {RequestInit} */
  const init = { method, headers: sent, cache: 'no-store', credentials: 'omit' };
  if (session.token) sent['Authorization'] = `Bearer ${session.token}`;
  if (body !== undefined) {
    sent['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `The server cannot be reached (${messageOf(err)})`);
  }
  /** @type {{ error?: boolean, message?: string, data?: any } | null} */
  let envelope = null;
  try { envelope = await response.json(); } catch { envelope = null; }
  if (response.status === 401 && session.config.authMode === 'client') {
    unauthorized('The cluster did not accept your token. Sign in again.');
    throw new ApiError(401, 'Not signed in');
  }
  if (!response.ok || !envelope || envelope.error) {
    const message = envelope && envelope.message ? envelope.message : response.statusText;
    throw new ApiError(response.status, message, envelope && envelope.data);
  }
  return { data: envelope.data, etag: response.headers.get('ETag'), status: response.status };
}

/** @param {string} namespace @param {string} name */
export const srPath = (namespace, name) =>
  `/api/scheduledruns/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

/** @param {string} namespace @param {string} name */
export const srRoute = (namespace, name) =>
  `#/sr/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

/** @type {Map<string, { at: number, access: Access }>} */
const accessCache = new Map();

/** Nothing allowed, nothing said: what a failed access review leaves. */
const UNKNOWN = /** @type {Access} */ ({ actions: {}, missing: {} });

/**
 * Which actions the caller may take in a namespace (cached for ACCESS_TTL_MS). It only informs:
 * the cluster still decides each request.
 * @param {string} namespace
 * @returns {Promise<Access>}
 */
export async function accessFor(namespace) {
  const cached = accessCache.get(namespace);
  if (cached && Date.now() - cached.at < ACCESS_TTL_MS) return cached.access;
  let access = UNKNOWN;
  try {
    /** @type {{ data: Access }} */
    const answer = await call('GET', `/api/access?namespace=${encodeURIComponent(namespace)}`);
    access = answer.data;
  } catch (err) {
    if (statusOf(err) === 401) throw err;
  }
  accessCache.set(namespace, { at: Date.now(), access });
  return access;
}

/** Forget every namespace's answer (another user may sign in next). */
export function forgetAccess() {
  accessCache.clear();
}
