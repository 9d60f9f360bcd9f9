"""Operator settings that shape every rendered CronJob (flags of `scheduledrun operator`).

Kept apart from the renderer so the operator's CLI and the offline `scheduledrun render` build the
same value, and so each default carries the reason it is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner import api, options

DEFAULT_RUNNER_IMAGE = "ghcr.io/kagent-dev/kagent-scheduledrun:0.1.0"
DEFAULT_RUNNER_SERVICE_ACCOUNT = "kagent-scheduledrun-runner"


@dataclass(frozen=True)
class OperatorConfig:
    """Everything about a rendered CronJob that is not in its ScheduledRun."""

    runner_image: str = DEFAULT_RUNNER_IMAGE
    """Image of the runner container; it must put `scheduledrun` on PATH."""

    image_pull_policy: str = options.DEFAULT_PULL_POLICY
    """Pull policy of the runner container (Always, IfNotPresent or Never)."""

    a2a_base_url: str = api.DEFAULT_A2A_BASE_URL
    """Where kagent serves A2A; agents are below `/api/a2a/{ns}/{name}/`."""

    a2a_protocol: str = options.DEFAULT_PROTOCOL
    """A2A protocol the runner speaks: `auto`, `0.3` or `1.0`."""

    a2a_user_id: str = api.DEFAULT_A2A_USER_ID
    """User the runner tells kagent it is (`X-User-Id`): kagent files the run's session and task
    under it and lists only its tasks to it. The default is kagent's own default user, whose
    sessions kagent's UI shows."""

    otlp_endpoint: str = ""
    """OTLP/HTTP endpoint (the base, as OTEL_EXPORTER_OTLP_ENDPOINT) the runner exports each
    run's span to; empty: none (runs still carry and record their trace id)."""

    a2a_token_secret: str = ""
    """Secret (in each ScheduledRun's namespace) holding a bearer token for kagent, mounted into
    the runner pod; empty: none. Exclusive with `a2a_token_audience`."""

    a2a_token_secret_key: str = "token"
    """Key of the token in `a2a_token_secret`."""

    a2a_token_audience: str = ""
    """When set, the runner pod gets a projected ServiceAccount token with this audience (what
    kagent's auth checks), rotated by the kubelet; empty: none."""

    a2a_token_expiration_seconds: int = 3600
    """Lifetime of the projected token; the kubelet renews it at 80%, and the runner reads the
    file on every request."""

    session_url: str = ""
    """A link template to a run's session in kagent's UI (`{namespace}`, `{name}`, `{agent}`,
    `{sessionID}`, `{taskID}`), given to runners for the `sessionLink` of each delivery; empty:
    none."""

    termination_grace_seconds: int = api.TERMINATION_GRACE_SECONDS
    """The runner pod's terminationGracePeriodSeconds. On SIGTERM (ScheduledRun deleted, Replace,
    Job deadline) the runner cancels the agent's task and records the end within
    runner.api.STOP_BUDGET_SECONDS; the grace leaves room above that before SIGKILL."""

    runner_service_account: str = DEFAULT_RUNNER_SERVICE_ACCOUNT
    """ServiceAccount of runner pods; the operator binds it to the runner ClusterRole in each
    namespace."""

    deadline_grace_seconds: int = 60
    """Added to the run's `timeout` to give the Job's `activeDeadlineSeconds`. The runner enforces
    the timeout itself (it cancels the agent's task and records `Timeout`); the grace covers pod
    start-up, that last status write and the delivery of the answer (`spec.delivery`, each
    destination within its 30 s budget and all of them within what is left of this grace), so
    Kubernetes only kills a runner that is truly stuck."""

    backoff_limit: int = 2
    """Pod retries of a Job. A crashed runner pod is retried; the runner is idempotent per Job (it
    resumes or resolves its `Pending` entry), so a retry never sends the prompt twice. Two retries
    ride out a node loss or an API hiccup without looping on a broken image for long."""

    ttl_seconds_after_finished: int = 86400
    """Finished Jobs (and their pod logs) are kept a day for debugging; the ScheduledRun's
    `status.runHistory` is the durable record of every run."""

    successful_jobs_history_limit: int = 3
    """Succeeded Jobs the CronJob keeps (Kubernetes' own default); the run history holds more."""

    failed_jobs_history_limit: int = 3
    """Failed Jobs the CronJob keeps. Higher than Kubernetes' default of 1: a failure's pod logs
    are what a person reads next, and repeated failures are worth comparing."""

    cpu_request: str = "10m"
    """The runner mostly waits on the network."""

    memory_request: str = "32Mi"
    """The runner's measured peak is below 32 MB."""

    cpu_limit: str = "500m"
    """Enough for a quick Python start-up; a runaway runner cannot take a node's CPU."""

    memory_limit: str = "64Mi"
    """Twice the measured peak of an ordinary run, so a larger agent answer does not get the
    runner OOM-killed: the most the runner's bounds let an answer through (runner/a2a.py) peaks
    at 45 MB RSS, 34 MB charged to a 64 MiB cgroup (tests/integration/test_hostile_runner.py)."""

    def __post_init__(self) -> None:
        if self.a2a_token_secret and self.a2a_token_audience:
            raise ValueError("give an A2A token Secret or a token audience, not both")
        if self.termination_grace_seconds < api.STOP_BUDGET_SECONDS + 5:
            raise ValueError(
                f"the runner's termination grace must be at least {api.STOP_BUDGET_SECONDS + 5}s"
                f" (it needs up to {api.STOP_BUDGET_SECONDS}s to cancel and record on SIGTERM)"
            )
