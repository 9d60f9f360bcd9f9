// @ts-check
// What the server knows about a ScheduledRun, read from its own document (/api/openapi.json,
// whose ScheduledRun schema is the CRD's): the apiVersion and kind to write, every spec field
// with its type, default, bounds, enum and description, the condition types and the run
// statuses. The UI keeps no copy of these; a form or a table is drawn from this model.
import { ACTION, CONDITION, DST, RUN_STATUS } from './names.js';

/**
 * The part of an OpenAPI schema object the UI reads.
 * @typedef {{ type?: string, description?: string, default?: unknown, enum?: unknown[],
 *   format?: string, minimum?: number, maximum?: number, minLength?: number, maxLength?: number,
 *   properties?: Record<string, JsonSchema>, required?: string[], items?: JsonSchema,
 *   'x-kubernetes-group-version-kind'?: { group: string, version: string, kind: string }[]
 * }} JsonSchema
 */

/**
 * The value at a path of a JSON document, or an error naming what is missing.
 * @param {unknown} value
 * @param {string[]} path
 * @returns {JsonSchema}
 */
function at(value, path) {
  let here = value;
  for (const key of path) {
    if (typeof here !== 'object' || here === null || !(key in here)) {
      throw new Error(`the server's API description has no ${path.join('.')}`);
    }
    here = /** @type {Record<string, unknown>} */ (here)[key];
  }
  if (typeof here !== 'object' || here === null) throw new Error(`the server's API description has no ${path.join('.')}`);
  return /** @type {JsonSchema} */ (here);
}

/**
 * @param {JsonSchema} schema
 * @returns {string[]}
 */
const valuesOf = (schema) => (schema.enum || []).map(String);

/**
 * Every value of `wanted` is one of `known`, else an error naming the first that is not.
 * @param {Readonly<Record<string, string>>} wanted
 * @param {string[]} known
 * @param {string} what
 */
function check(wanted, known, what) {
  for (const value of Object.values(wanted)) {
    if (!known.includes(value)) throw new Error(`the server knows no ${what} ${value}: this page is older or newer than the server`);
  }
}

export class Model {
  /**
   * @param {unknown} document the server's OpenAPI document
   */
  constructor(document) {
    const schemas = ['components', 'schemas'];
    /** The ScheduledRun schema: the CRD's own. */
    const object = at(document, [...schemas, 'ScheduledRun']);
    const gvk = (object['x-kubernetes-group-version-kind'] || [])[0];
    if (!gvk) throw new Error("the server's API description has no ScheduledRun kind");
    this.apiVersion = `${gvk.group}/${gvk.version}`;
    this.kind = gvk.kind;
    /** @type {JsonSchema} */
    this.spec = at(object, ['properties', 'spec']);
    const target = at(this.spec, ['properties', 'targetRef', 'properties']);
    /** The kinds a target may be, and the API group every target's kind is in. */
    this.targetKinds = valuesOf(at(target, ['kind']));
    this.targetGroup = /** @type {string | undefined} */ (at(target, ['apiGroup']).default);
    this.conditionTypes = valuesOf(at(document, [...schemas, 'ConditionType']));
    this.runStatuses = valuesOf(at(object, ['properties', 'status', 'properties', 'lastRunStatus']));
    const access = at(document, ['paths', '/api/access', 'get', 'responses', '200', 'content',
      'application/json', 'schema', 'properties', 'data', 'properties', 'actions']);
    /** The actions /api/access answers for. */
    this.actions = Object.keys(access.properties || {});
    check(ACTION, this.actions, 'action');
    check(CONDITION, this.conditionTypes, 'condition type');
    check(DST, valuesOf(at(document, [...schemas, 'DstChange', 'properties', 'kind'])), 'daylight-saving change');
    check(RUN_STATUS, this.runStatuses, 'run status');
  }

  /**
   * Every spec field and its schema, in the CRD's order.
   * @returns {[string, JsonSchema][]}
   */
  fields() {
    return Object.entries(this.spec.properties || {});
  }

  /** @param {string} name */
  field(name) {
    return (this.spec.properties || {})[name];
  }

  /**
   * What the apiserver stores for a field that is not set, if the CRD says.
   * @param {string} name
   */
  defaultOf(name) {
    return this.field(name)?.default;
  }

  /** @param {string} name */
  isRequired(name) {
    return (this.spec.required || []).includes(name);
  }

  /**
   * The field's documentation, from the CRD.
   * @param {string} name
   */
  describe(name) {
    return this.field(name)?.description || '';
  }

  /**
   * A field's value, or its default when the object does not set it.
   * @param {Record<string, unknown>} spec
   * @param {string} name
   */
  valueOf(spec, name) {
    return spec[name] ?? this.defaultOf(name);
  }
}

/** @type {Promise<Model> | null} */
let loading = null;

/**
 * The model, read once per page load (a failure is tried again at the next view).
 * @returns {Promise<Model>}
 */
export function loadModel() {
  if (!loading) {
    loading = (async () => {
      const response = await fetch('/api/openapi.json', { credentials: 'omit' });
      if (!response.ok) throw new Error(`Cannot read the API description (${response.status})`);
      return new Model(await response.json());
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}
