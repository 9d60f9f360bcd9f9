"""Names shared by runner, operator and chart: the ScheduledRun API, labels, env, exit codes.

One place for every string that two components must agree on, so a rename cannot split them.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

GROUP: Final = "kagent.dev"
VERSION: Final = "v1alpha2"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "ScheduledRun"
PLURAL: Final = "scheduledruns"

# Label on every CronJob (and through its template, every Job and Pod) naming its ScheduledRun.
LABEL_SCHEDULEDRUN: Final = "kagent.dev/scheduledrun"
# Label that selects runner pods.
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
COMPONENT_RUNNER: Final = "runner"  # the chart's name for it too (its runner ClusterRole)
RUNNER_CONTAINER: Final = "runner"

# Annotations Kubernetes itself puts on Jobs.
ANNOTATION_SCHEDULED_TIME: Final = "batch.kubernetes.io/cronjob-scheduled-timestamp"
# "manual" on a Job made by `kubectl create job --from=cronjob/...`.
ANNOTATION_INSTANTIATE: Final = "cronjob.kubernetes.io/instantiate"

# kagent's: the user who made the ScheduledRun (set by the REST API from the authenticated
# caller). A run is sent as this user (X-User-Id), so its session is that user's in kagent's UI.
ANNOTATION_CREATED_BY: Final = "kagent.dev/created-by"
# Set by `scheduledrun resume` to the Paused condition's lastTransitionTime: ends that pause.
ANNOTATION_RESUME: Final = "kagent.dev/resume"
# On a rendered CronJob: the full ScheduledRun name (its label value may be hashed), the
# generation it was rendered from (which spec a CronJob reflects, when debugging), and the hash
# of the whole rendered body (the operator's cache holds it: a matching hash skips the write).
ANNOTATION_SCHEDULEDRUN_NAME: Final = "kagent.dev/scheduledrun-name"
ANNOTATION_GENERATION: Final = "kagent.dev/scheduledrun-generation"
ANNOTATION_SPEC_HASH: Final = "kagent.dev/spec-hash"
# On a Job made by a trigger carrying an Idempotency-Key: the key's SHA-256, so a retried
# request finds the run its first attempt made (the Job's name is derived from it too).
ANNOTATION_IDEMPOTENCY_KEY: Final = "kagent.dev/idempotency-key-sha256"
# Beside it, the SHA-256 of the request the key came with (its force flag and body), so the key
# reused for another request is refused (422) instead of answered with the first one's run.
ANNOTATION_IDEMPOTENCY_REQUEST: Final = "kagent.dev/idempotency-request-sha256"

# On a Job: the W3C traceparent of the trigger's caller; the run joins that trace (runner/trace.py).
ANNOTATION_TRACEPARENT: Final = "kagent.dev/traceparent"

# Environment of the runner container (set by the rendered CronJob, downward API for the Job ids).
ENV_JOB_NAME: Final = "SCHEDULEDRUN_JOB_NAME"
ENV_JOB_UID: Final = "SCHEDULEDRUN_JOB_UID"
ENV_POD_NAME: Final = "SCHEDULEDRUN_POD_NAME"
ENV_A2A_BASE_URL: Final = "SCHEDULEDRUN_A2A_BASE_URL"
ENV_A2A_PROTOCOL: Final = "SCHEDULEDRUN_A2A_PROTOCOL"  # "auto", "0.3" or "1.0"
ENV_A2A_USER_ID: Final = "SCHEDULEDRUN_A2A_USER_ID"
ENV_A2A_TOKEN_FILE: Final = "SCHEDULEDRUN_A2A_TOKEN_FILE"
# Where the runner exports its span (runner/otlp.py): OpenTelemetry's own variable, set on the pod
# from the operator's --runner-otlp-endpoint.
ENV_OTLP_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Folder holding token, ca.crt and namespace; defaults to the in-cluster path.
ENV_SERVICEACCOUNT_DIR: Final = "SCHEDULEDRUN_SERVICEACCOUNT_DIR"
DEFAULT_SERVICEACCOUNT_DIR: Final = "/var/run/secrets/kubernetes.io/serviceaccount"

DEFAULT_A2A_BASE_URL: Final = "http://kagent-controller.kagent.svc:8083"
# kagent's controller takes the caller from this header; without it, its default user (the one
# kagent's UI shows) is assumed. The runner always says who it is, so its lookups mean something.
USER_ID_HEADER: Final = "X-User-Id"
DEFAULT_A2A_USER_ID: Final = "admin@kagent.dev"
# Where the rendered runner pod mounts the A2A bearer token (Secret or projected SA token).
A2A_TOKEN_DIR: Final = "/var/run/secrets/kagent-scheduledrun/a2a"
A2A_TOKEN_FILENAME: Final = "token"

# What a ScheduledRun may target: kagent's agent kinds, in its API group, same namespace only.
TARGET_GROUP: Final = "kagent.dev"
TARGET_VERSION: Final = "v1alpha2"


class TargetKind(NamedTuple):
    plural: str  # the resource in the Kubernetes API
    a2a_segment: str  # kagent serves its A2A endpoint at /api/{a2a_segment}/{namespace}/{name}/


TARGET_KINDS: Final[dict[str, TargetKind]] = {
    "Agent": TargetKind("agents", "a2a"),
    "SandboxAgent": TargetKind("sandboxagents", "a2a-sandboxes"),
}

ObjectKey = tuple[str, str]  # namespace, name: how the operator keys what it keeps per object

RunStatus = Literal["Pending", "Succeeded", "Failed", "Timeout", "DispatchFailed"]
Trigger = Literal["Scheduled", "Manual"]
TERMINAL_STATUSES: Final = frozenset({"Succeeded", "Failed", "Timeout", "DispatchFailed"})

# Exit codes of `scheduledrun run`. The Job's podFailurePolicy fails the Job at once on
# EXIT_FINAL_FAILURE (a definite outcome: retrying would send the prompt again); any other
# non-zero code is a crash or an unfinished run, which the Job retries within its backoffLimit.
EXIT_SUCCEEDED: Final = 0
EXIT_FINAL_FAILURE: Final = 3
EXIT_RETRY: Final = 1

# SIGTERM (ScheduledRun deleted, Replace, Job deadline): the runner cancels the agent's task and
# records the end within STOP_BUDGET_SECONDS; the rendered pod's grace period leaves room above it.
STOP_BUDGET_SECONDS: Final = 20
# Each spec.delivery destination: every attempt to reach its receiver within this many seconds.
DELIVERY_BUDGET_SECONDS: Final = 30
# The receiver link template of a run's session (`--session-url`), given to runner pods.
ENV_SESSION_URL: Final = "SCHEDULEDRUN_SESSION_URL"
TERMINATION_GRACE_SECONDS: Final = 30

# Kubernetes object names: most objects' (a ScheduledRun's, a target's, a Job's) are DNS-1123
# subdomains, a namespace's a DNS-1123 label. The REST API's path parameters, the validator and
# the operator's check of history ids all take them from here.
NAME_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
NAME_MAX: Final = 253
NAMESPACE_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
NAMESPACE_MAX: Final = 63

# A history entry's id is its Job's name: an object name (NAME_PATTERN) that also fits the
# 63-character `job-name` label Kubernetes puts on the Job's pods. The CRD holds the same pattern
# and length (tests/unit/test_crd_schema.py checks they agree), so an id can never be a path.
JOB_NAME_MAX: Final = 63

# The longest task or context id an agent may give: the CRD's bound on taskID and sessionID.
AGENT_ID_MAX: Final = 256

MESSAGE_MAX_CHARS: Final = 1024
