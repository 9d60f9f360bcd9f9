"""Rendering a ScheduledRun into its CronJob: one named case per rule the rendered CronJob keeps.

Covers the pure `render_cronjob`, `cronjob_name` and `label_value`, and that the template writes
every value through `tojson`. Hostile input is the property test's job (test_render_property.py);
whether Kubernetes accepts the output is test_render_kubectl.py's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from generator.cronjob.render import (
    CRONJOB_NAME_MAX,
    OperatorConfig,
    RenderError,
    cronjob_name,
    label_value,
    render_cronjob,
)
from runner import api
from tests import builders

UID = "2f6c3b2e-9d1a-4f7e-8a35-0c1d2e3f4a5b"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "cronjob.json.j2"
POD = "spec.jobTemplate.spec.template.spec"
CONTAINER = f"{POD}.containers.0"


def scheduledrun(
    name: str = "nightly-report",
    *,
    uid: str | None = UID,
    generation: int | None = 3,
    **spec: Any,
) -> dict[str, Any]:
    return builders.scheduledrun(
        name,
        "kagent",
        uid=uid,
        generation=generation,
        api_group="kagent.dev",
        **{"schedule": "0 2 * * *", "prompt": "Write the nightly report.", **spec},
    )


def at(obj: Any, path: str) -> Any:
    """The value at a dotted path; numeric parts index lists."""
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def has(obj: Any, path: str) -> bool:
    try:
        at(obj, path)
    except (KeyError, IndexError):
        return False
    return True


def env_of(cronjob: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in at(cronjob, f"{CONTAINER}.env")}


LONG_NAME = "a" * 60
VALUE_CASES = [
    # Defaults: what a minimal ScheduledRun gets.
    pytest.param(scheduledrun(), "apiVersion", "batch/v1", id="defaults-api-version"),
    pytest.param(scheduledrun(), "kind", "CronJob", id="defaults-kind"),
    pytest.param(scheduledrun(), "metadata.name", "nightly-report", id="defaults-name-is-sr-name"),
    pytest.param(scheduledrun(), "metadata.namespace", "kagent", id="defaults-same-namespace"),
    pytest.param(scheduledrun(), "spec.schedule", "0 2 * * *", id="defaults-schedule-copied"),
    pytest.param(scheduledrun(), "spec.timeZone", "UTC", id="defaults-timezone-utc-explicit"),
    pytest.param(scheduledrun(), "spec.suspend", False, id="defaults-not-suspended"),
    pytest.param(scheduledrun(), "spec.concurrencyPolicy", "Forbid", id="defaults-forbid"),
    pytest.param(scheduledrun(), "spec.successfulJobsHistoryLimit", 3, id="defaults-success-keep"),
    pytest.param(scheduledrun(), "spec.failedJobsHistoryLimit", 3, id="defaults-failed-keep"),
    pytest.param(
        scheduledrun(),
        "spec.jobTemplate.spec.activeDeadlineSeconds",
        15 * 60 + 60,
        id="defaults-timeout-15m-plus-grace",
    ),
    pytest.param(scheduledrun(), "spec.jobTemplate.spec.backoffLimit", 2, id="defaults-backoff"),
    pytest.param(
        scheduledrun(),
        "spec.jobTemplate.spec.ttlSecondsAfterFinished",
        86400,
        id="defaults-ttl-day",
    ),
    pytest.param(scheduledrun(), f"{POD}.restartPolicy", "Never", id="defaults-restart-never"),
    pytest.param(
        scheduledrun(),
        f"{POD}.serviceAccountName",
        "kagent-scheduledrun-runner",
        id="defaults-service-account",
    ),
    pytest.param(
        scheduledrun(), f"{POD}.automountServiceAccountToken", True, id="defaults-token-mounted"
    ),
    # Spec fields copied to the CronJob.
    pytest.param(scheduledrun(suspend=True), "spec.suspend", True, id="suspend"),
    pytest.param(
        scheduledrun(concurrencyPolicy="Replace"),
        "spec.concurrencyPolicy",
        "Replace",
        id="replace-policy",
    ),
    pytest.param(
        scheduledrun(concurrencyPolicy="Allow"),
        "spec.concurrencyPolicy",
        "Allow",
        id="allow-policy",
    ),
    pytest.param(
        scheduledrun(startingDeadlineSeconds=120),
        "spec.startingDeadlineSeconds",
        120,
        id="starting-deadline",
    ),
    pytest.param(
        scheduledrun(timeZone="Europe/Berlin"), "spec.timeZone", "Europe/Berlin", id="timezone"
    ),
    pytest.param(scheduledrun(schedule="@hourly"), "spec.schedule", "@hourly", id="macro-schedule"),
    # Timeout -> activeDeadlineSeconds (timeout plus the 60 s grace).
    pytest.param(
        scheduledrun(timeout="1h30m"),
        "spec.jobTemplate.spec.activeDeadlineSeconds",
        5400 + 60,
        id="timeout-1h30m",
    ),
    pytest.param(
        scheduledrun(timeout="90s"),
        "spec.jobTemplate.spec.activeDeadlineSeconds",
        150,
        id="timeout-90s",
    ),
    # Long names: a hashed CronJob name, a hashed label, the full name in the annotation and args.
    pytest.param(
        scheduledrun(LONG_NAME), "metadata.name", cronjob_name(LONG_NAME), id="long-name-hashed"
    ),
    pytest.param(
        scheduledrun(LONG_NAME),
        "metadata.annotations.kagent.dev/scheduledrun-name",
        LONG_NAME,
        id="long-name-full-in-annotation",
    ),
    pytest.param(
        scheduledrun(LONG_NAME),
        f"{CONTAINER}.args",
        ["--namespace", "kagent", "--name", LONG_NAME],
        id="long-name-full-in-args",
    ),
    # Owner reference: deleting the ScheduledRun deletes its CronJob.
    pytest.param(
        scheduledrun(),
        "metadata.ownerReferences",
        [
            {
                "apiVersion": "kagent.dev/v1alpha2",
                "kind": "ScheduledRun",
                "name": "nightly-report",
                "uid": UID,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
        id="controller-owner-reference",
    ),
    pytest.param(
        scheduledrun(),
        "metadata.annotations.kagent.dev/scheduledrun-generation",
        "3",
        id="generation-annotation-is-a-string",
    ),
    # Security context: Pod Security Standard "restricted".
    pytest.param(
        scheduledrun(),
        f"{POD}.securityContext",
        {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        id="security-context-pod",
    ),
    pytest.param(
        scheduledrun(),
        f"{CONTAINER}.securityContext",
        {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        id="security-context-container",
    ),
    # The runner container.
    pytest.param(scheduledrun(), f"{CONTAINER}.name", api.RUNNER_CONTAINER, id="container-name"),
    pytest.param(scheduledrun(), f"{CONTAINER}.command", ["scheduledrun", "run"], id="command"),
    pytest.param(
        scheduledrun(),
        f"{CONTAINER}.args",
        ["--namespace", "kagent", "--name", "nightly-report"],
        id="args-name-the-scheduledrun",
    ),
    pytest.param(
        scheduledrun(),
        f"{CONTAINER}.resources",
        {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "64Mi"}},
        id="resources-small",
    ),
    pytest.param(
        scheduledrun(),
        "spec.jobTemplate.spec.podFailurePolicy.rules",
        [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": api.RUNNER_CONTAINER,
                    "operator": "In",
                    "values": [api.EXIT_FINAL_FAILURE],
                },
            },
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        ],
        id="pod-failure-policy",
    ),
]


@pytest.mark.parametrize(("sr", "path", "expected"), VALUE_CASES)
def test_rendered_value(sr: dict[str, Any], path: str, expected: Any) -> None:
    # Paths split on dots, so the two annotation keys holding dots are looked up whole.
    cronjob = render_cronjob(sr, OperatorConfig())
    if path.startswith("metadata.annotations."):
        assert (
            cronjob["metadata"]["annotations"][path.removeprefix("metadata.annotations.")]
            == expected
        )
    else:
        assert at(cronjob, path) == expected


ABSENT_CASES = [
    pytest.param(
        scheduledrun(), "spec.startingDeadlineSeconds", id="no-starting-deadline-by-default"
    ),
    pytest.param(scheduledrun(uid=None), "metadata.ownerReferences", id="no-owner-without-uid"),
    pytest.param(
        scheduledrun(generation=None),
        "metadata.annotations.kagent.dev/scheduledrun-generation",
        id="no-generation-annotation-without-generation",
    ),
]


@pytest.mark.parametrize(("sr", "path"), ABSENT_CASES)
def test_rendered_field_absent(sr: dict[str, Any], path: str) -> None:
    cronjob = render_cronjob(sr, OperatorConfig())
    if path.startswith("metadata.annotations."):
        assert path.removeprefix("metadata.annotations.") not in cronjob["metadata"]["annotations"]
    else:
        assert not has(cronjob, path)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("metadata.labels", id="cronjob"),
        pytest.param("spec.jobTemplate.metadata.labels", id="job"),
        pytest.param("spec.jobTemplate.spec.template.metadata.labels", id="pod"),
    ],
)
def test_labels_on_cronjob_job_and_pod(path: str) -> None:
    assert at(render_cronjob(scheduledrun(), OperatorConfig()), path) == {
        api.LABEL_SCHEDULEDRUN: "nightly-report",
        "app.kubernetes.io/name": "kagent-scheduledrun",
        "app.kubernetes.io/component": "runner",
        "app.kubernetes.io/managed-by": "kagent-scheduledrun",
        "app.kubernetes.io/part-of": "kagent",
    }


def test_env_gives_the_runner_its_job_pod_and_agent_address() -> None:
    settings = OperatorConfig(a2a_base_url="http://a2a.example:9000", a2a_protocol="1.0")
    assert env_of(render_cronjob(scheduledrun(), settings)) == {
        api.ENV_JOB_NAME: {
            "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}
        },
        api.ENV_JOB_UID: {
            "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/controller-uid']"}
        },
        api.ENV_POD_NAME: {"fieldRef": {"fieldPath": "metadata.name"}},
        api.ENV_A2A_BASE_URL: "http://a2a.example:9000",
        api.ENV_A2A_PROTOCOL: "1.0",
        api.ENV_A2A_USER_ID: api.DEFAULT_A2A_USER_ID,
    }


def pod_spec(cronjob: dict[str, Any]) -> dict[str, Any]:
    spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert isinstance(spec, dict)
    return spec


def test_runner_pod_has_no_token_unless_configured() -> None:
    spec = pod_spec(render_cronjob(scheduledrun(), OperatorConfig()))
    assert "volumes" not in spec
    assert "volumeMounts" not in spec["containers"][0]
    assert api.ENV_A2A_TOKEN_FILE not in env_of(render_cronjob(scheduledrun(), OperatorConfig()))


@pytest.mark.parametrize(
    ("settings", "volume"),
    [
        pytest.param(
            OperatorConfig(a2a_token_secret="kagent-token", a2a_token_secret_key="jwt"),
            {
                "name": "a2a-token",
                "secret": {
                    "secretName": "kagent-token",
                    "items": [{"key": "jwt", "path": api.A2A_TOKEN_FILENAME}],
                    "defaultMode": 0o440,
                },
            },
            id="secret",
        ),
        pytest.param(
            OperatorConfig(a2a_token_audience="kagent"),
            {
                "name": "a2a-token",
                "projected": {
                    "sources": [
                        {
                            "serviceAccountToken": {
                                "audience": "kagent",
                                "expirationSeconds": 3600,
                                "path": api.A2A_TOKEN_FILENAME,
                            }
                        }
                    ],
                    "defaultMode": 0o440,
                },
            },
            id="projected-serviceaccount-token",
        ),
    ],
)
def test_runner_pod_mounts_the_token_and_names_its_file(
    settings: OperatorConfig, volume: dict[str, Any]
) -> None:
    cronjob = render_cronjob(scheduledrun(), settings)
    spec = pod_spec(cronjob)
    assert spec["volumes"] == [volume]
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": "a2a-token", "mountPath": api.A2A_TOKEN_DIR, "readOnly": True}
    ]
    token_file = env_of(cronjob)[api.ENV_A2A_TOKEN_FILE]
    assert token_file == f"{api.A2A_TOKEN_DIR}/{api.A2A_TOKEN_FILENAME}"


def test_grace_period_fits_the_runners_stop() -> None:
    spec = pod_spec(render_cronjob(scheduledrun(), OperatorConfig()))
    assert spec["terminationGracePeriodSeconds"] >= api.STOP_BUDGET_SECONDS + 5
    with pytest.raises(ValueError, match="termination grace"):
        OperatorConfig(termination_grace_seconds=api.STOP_BUDGET_SECONDS)
    with pytest.raises(ValueError, match="not both"):
        OperatorConfig(a2a_token_secret="s", a2a_token_audience="a")


SETTINGS_CASES = [
    pytest.param(
        OperatorConfig(runner_image="reg.local/runner:dev"),
        f"{CONTAINER}.image",
        "reg.local/runner:dev",
        id="runner-image",
    ),
    pytest.param(
        OperatorConfig(image_pull_policy="Always"),
        f"{CONTAINER}.imagePullPolicy",
        "Always",
        id="pull-policy",
    ),
    pytest.param(
        OperatorConfig(runner_service_account="sa-x"),
        f"{POD}.serviceAccountName",
        "sa-x",
        id="service-account",
    ),
    pytest.param(
        OperatorConfig(deadline_grace_seconds=0),
        "spec.jobTemplate.spec.activeDeadlineSeconds",
        900,
        id="grace-zero",
    ),
    pytest.param(
        OperatorConfig(backoff_limit=0),
        "spec.jobTemplate.spec.backoffLimit",
        0,
        id="backoff-zero",
    ),
    pytest.param(
        OperatorConfig(ttl_seconds_after_finished=60),
        "spec.jobTemplate.spec.ttlSecondsAfterFinished",
        60,
        id="ttl",
    ),
    pytest.param(
        OperatorConfig(memory_limit="128Mi"),
        f"{CONTAINER}.resources.limits.memory",
        "128Mi",
        id="memory-limit",
    ),
]


@pytest.mark.parametrize(("settings", "path", "expected"), SETTINGS_CASES)
def test_settings_reach_the_cronjob(settings: OperatorConfig, path: str, expected: Any) -> None:
    assert at(render_cronjob(scheduledrun(), settings), path) == expected


def test_prompt_is_not_copied_into_the_cronjob() -> None:
    prompt = "Unique prompt text 7f3a: do not copy me"
    assert prompt not in repr(render_cronjob(scheduledrun(prompt=prompt), OperatorConfig()))


def test_rendering_is_pure() -> None:
    sr = scheduledrun(timeZone="Asia/Tokyo", startingDeadlineSeconds=30)
    assert render_cronjob(sr, OperatorConfig()) == render_cronjob(sr, OperatorConfig())


@pytest.mark.parametrize(
    ("sr", "message"),
    [
        pytest.param(
            {"metadata": {"namespace": "x"}, "spec": {"schedule": "@daily"}},
            "metadata.name",
            id="no-name",
        ),
        pytest.param(
            {"metadata": {"name": "x"}, "spec": {"schedule": "@daily"}},
            "metadata.namespace",
            id="no-namespace",
        ),
        pytest.param(scheduledrun(timeout="15 minutes"), "spec.timeout", id="bad-timeout"),
        pytest.param(scheduledrun(schedule=None), "spec.schedule", id="no-schedule"),
    ],
)
def test_unrenderable_object_raises_render_error(sr: dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=re.escape(message)):
        render_cronjob(sr, OperatorConfig())


def _with_suffix(length: int, char: str = "b") -> str:
    return "a" + char * (length - 1)


NAME_CASES = [
    pytest.param("nightly-report", "nightly-report", id="short-kept"),
    pytest.param("a" * 52, "a" * 52, id="exactly-52-kept"),
    pytest.param("team.nightly-report", "team.nightly-report", id="dotted-short-kept"),
]


@pytest.mark.parametrize(("name", "expected"), NAME_CASES)
def test_cronjob_name_keeps_names_that_fit(name: str, expected: str) -> None:
    assert cronjob_name(name) == expected


LONG_NAMES = [
    pytest.param("a" * 53, id="53"),
    pytest.param("a" * 253, id="253"),
    pytest.param("x" * 42 + "-" + "y" * 20, id="cut-ends-on-a-dash"),
    pytest.param("x" * 41 + "--" + "y" * 20, id="cut-ends-on-two-dashes"),
    pytest.param("team." * 20 + "report", id="dotted"),
    pytest.param("a" * 63, id="63"),
]


@pytest.mark.parametrize("name", LONG_NAMES)
def test_long_cronjob_name_is_a_short_dns_label_with_stable_hash(name: str) -> None:
    short = cronjob_name(name)
    assert len(short) <= CRONJOB_NAME_MAX
    assert DNS_LABEL.match(short), short
    assert short == cronjob_name(name)  # stable
    assert cronjob_name(name + "z") != short  # the hash tells apart names sharing a prefix


@pytest.mark.parametrize("name", [*LONG_NAMES, pytest.param("a" * 64, id="64")])
def test_label_value_is_valid_and_stable(name: str) -> None:
    value = label_value(name)
    assert len(value) <= 63
    assert LABEL_VALUE.match(value), value
    assert value == label_value(name)
    assert (value == name) == (len(name) <= 63)


def test_long_names_sharing_a_prefix_get_different_names_and_labels() -> None:
    first, second = "p" * 100 + "-one", "p" * 100 + "-two"
    assert cronjob_name(first) != cronjob_name(second)
    assert label_value(first) != label_value(second)


def test_label_of_253_character_name_is_rendered_hashed() -> None:
    name = ("n" * 60 + ".") * 4 + "n" * 9
    assert len(name) == 253
    cronjob = render_cronjob(scheduledrun(name), OperatorConfig())
    assert cronjob["metadata"]["labels"][api.LABEL_SCHEDULEDRUN] == label_value(name)
    assert len(label_value(name)) <= 63


def test_every_template_value_goes_through_tojson() -> None:
    """A `{{ x }}` without `| tojson` would paste raw text into the JSON; only the label macro
    calls are exempt (they hold no user text, and their own values go through `tojson`)."""
    expressions = re.findall(r"\{\{-?(.*?)-?\}\}", TEMPLATE.read_text(encoding="utf-8"), re.S)
    exempt = re.compile(r"^\s*labels\(\)\s*$")
    raw = [e for e in expressions if not exempt.match(e) and not e.rstrip().endswith("| tojson")]
    assert expressions
    assert raw == []
