// @ts-check
// The shapes of the API's answers (the `data` of its envelope) as the UI reads them, for the
// type checker only: nothing here runs. The fields and their meaning are the server's
// (/api/openapi.json); a spec is read field by field through the schema (model.js).

/**
 * @typedef {{ name: string, namespace: string, resourceVersion?: string }} ObjectMeta
 * @typedef {{ kind?: string, name?: string, apiGroup?: string }} TargetRef
 * @typedef {{ schedule?: string, timeZone?: string, targetRef?: TargetRef, prompt?: string,
 *   suspend?: boolean, maxRunHistory?: number, [field: string]: unknown }} Spec
 * @typedef {{ type: string, status: string, reason?: string, message?: string,
 *   lastTransitionTime?: string }} Condition
 * @typedef {{ id: string, trigger?: string, scheduledTime?: string, startTime?: string,
 *   endTime?: string, sessionID?: string, taskID?: string, status?: string,
 *   message?: string, delivery?: Delivery[] }} RunEntry
 * @typedef {{ name: string, result: string, attempts?: number, code?: number, error?: string,
 *   reason?: string, time?: string }} Delivery
 * @typedef {{ conditions?: Condition[], runHistory?: RunEntry[], lastRunStatus?: string,
 *   lastRunTime?: string, nextRunTime?: string, scheduledRuns?: number }} Status
 * @typedef {{ apiVersion?: string, kind?: string, metadata: ObjectMeta, spec: Spec,
 *   status?: Status }} ScheduledRun
 * @typedef {{ kind: string, name: string, namespace: string, description?: string }} AgentTarget
 * @typedef {{ reason: string, field: string, message: string }} Problem
 * @typedef {{ time: string, local: string, shared?: number, sharedInCluster?: number }} FireTime
 * @typedef {{ at: string, kind: string, from: string, to: string, times: string[],
 *   more: boolean }} DstChange
 * @typedef {{ timeZone: string, suspended: boolean, times: FireTime[], notes?: string[],
 *   problems?: Problem[] }} NextRuns
 * @typedef {{ valid: boolean, problems: Problem[], timeZone: string, times: FireTime[],
 *   notes?: string[], dst?: DstChange[], suggestedSchedule?: string }} Verdict
 * @typedef {{ id: string }} TriggeredRun
 * @typedef {{ group: string, resource: string, verb: string }} Permission
 * @typedef {{ actions: Record<string, boolean>, missing: Record<string, Permission[]> }} Access
 * @typedef {{ authMode: string, sessionUrl: string | null }} UiConfig
 */

export {};
