"""The operator against a namespace user who tries to take what is not theirs (issue 16), on the
real control plane with `scheduledrun operator` as a process: a ScheduledRun named like another's
shortened CronJob name, a CronJob of the name made beforehand, fields added to an owned CronJob by
another manager, history ids that are paths, a foreign runner RoleBinding.

Runner pods are not run here; the runner's side (forged history entries) is
tests/integration/test_hostile_runner.py's.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from generator.cronjob import render
from generator.operator.kube import MAX_CONNECTIONS
from runner import api
from runner.kube import scheduledrun_path
from tests.kube_helpers import (
    accepted,
    create,
    create_agent,
    get_cronjob,
    get_sr,
    patch_spec,
    scheduledrun,
    wait_condition,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

RUNNER_ACCOUNT = "kagent-scheduledrun-runner"
# Issue 22 §4: a ScheduledRun kept from its name recovers when the foreign CronJob's deletion is
# seen (measured: well under a second), not at the conflict's recheck a minute later; generous
# for a busy 2-core machine.
RECOVER_WITHIN = 10.0


def events_of(client: httpx.Client, namespace: str, name: str) -> set[str]:
    items = client.get(f"/api/v1/namespaces/{namespace}/events").json()["items"]
    return {e["reason"] for e in items if e["involvedObject"]["name"] == name}


def pod_spec(cronjob: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def create_foreign_cronjob(kube: httpx.Client, namespace: str, name: str) -> dict[str, Any]:
    """A CronJob of the name made by someone else: no owner, not the operator's label."""
    foreign = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": {"team": "intruder"}},
        "spec": {
            "schedule": "0 0 1 1 *",
            "suspend": True,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "exfiltrate", "image": "evil:1"}],
                        }
                    }
                }
            },
        },
    }
    response = kube.post(f"/apis/batch/v1/namespaces/{namespace}/cronjobs", json=foreign)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_name_equal_to_another_shortened_name_does_not_take_its_cronjob(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    create_agent(kube, namespace, "helper")
    victim = "nightly-report-of-the-platform-team-for-all-production-clusters"
    short = render.cronjob_name(victim)
    assert short != victim
    create(kube, namespace, scheduledrun(victim, schedule="0 3 * * *"))
    owner = wait_condition(kube, namespace, victim, "True", "ScheduleAccepted")

    create(kube, namespace, scheduledrun(short, schedule="* * * * *"))
    wait_condition(kube, namespace, short, "False", "CronJobConflict")

    cronjob = get_cronjob(kube, namespace, short)
    assert cronjob is not None
    assert cronjob["spec"]["schedule"] == "0 3 * * *"
    assert [r["uid"] for r in cronjob["metadata"]["ownerReferences"]] == [owner["metadata"]["uid"]]
    victim_status = get_sr(kube, namespace, victim)["status"]
    assert victim_status["conditions"][0]["status"] == "True"
    assert "CronJobConflict" in events_of(kube, namespace, short)


def test_a_foreign_cronjob_of_the_name_is_neither_adopted_nor_merged(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    create_agent(kube, namespace, "helper")
    before = create_foreign_cronjob(kube, namespace, "nightly")

    create(kube, namespace, scheduledrun("nightly"))
    sr = wait_condition(kube, namespace, "nightly", "False", "CronJobConflict")

    after = get_cronjob(kube, namespace, "nightly")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert "ownerReferences" not in after["metadata"]
    assert [c["name"] for c in pod_spec(after)["containers"]] == ["exfiltrate"]
    assert "cronJobName" not in sr["status"]
    assert "nextRunTime" not in sr["status"]
    assert "CronJobConflict" in events_of(kube, namespace, "nightly")


def test_a_scheduledrun_takes_the_name_as_soon_as_the_foreign_cronjob_is_deleted(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    """Issue 22 §4: the deletion of the foreign CronJob is seen (the operator's CronJob watch is
    not only its own labelled ones), and the ScheduledRun it kept from its name is Accepted with
    a CronJob of its own within seconds, not at the conflict's recheck a minute later."""
    create_agent(kube, namespace, "helper")
    create_foreign_cronjob(kube, namespace, "nightly")
    sr = create(kube, namespace, scheduledrun("nightly"))
    wait_condition(kube, namespace, "nightly", "False", "CronJobConflict")

    response = kube.delete(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/nightly")
    assert response.status_code == 200, response.text
    deleted = time.monotonic()

    def recovered() -> bool:
        current = get_sr(kube, namespace, "nightly")
        condition = accepted(current) or {}
        cronjob = get_cronjob(kube, namespace, "nightly")
        owners = [
            r["uid"] for r in ((cronjob or {}).get("metadata") or {}).get("ownerReferences") or []
        ]
        return condition.get("reason") == "ScheduleAccepted" and owners == [sr["metadata"]["uid"]]

    eventually("the ScheduledRun Accepted with its own CronJob", recovered, timeout=RECOVER_WITHIN)
    took = time.monotonic() - deleted
    print(f"recovered {took:.1f} s after the foreign CronJob's deletion")
    assert get_sr(kube, namespace, "nightly")["status"]["cronJobName"] == "nightly"


def test_many_foreign_cronjobs_in_the_way_do_not_starve_the_operators_writes(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    """Each foreign CronJob that holds a ScheduledRun's name is watched on a connection of its
    own: more of them than the operator's request connections (kube.MAX_CONNECTIONS) leave its
    writes flowing, a new ScheduledRun is Accepted as soon as ever, and each deletion among them
    is still seen at once."""
    create_agent(kube, namespace, "helper")
    names = [f"taken-{i:02d}" for i in range(MAX_CONNECTIONS + 4)]
    for name in names:
        create_foreign_cronjob(kube, namespace, name)
        create(kube, namespace, scheduledrun(name))
    for name in names:
        wait_condition(kube, namespace, name, "False", "CronJobConflict")

    began = time.monotonic()
    create(kube, namespace, scheduledrun("fresh"))
    wait_condition(kube, namespace, "fresh", "True", "ScheduleAccepted", timeout=RECOVER_WITHIN)
    print(f"a new ScheduledRun Accepted after {time.monotonic() - began:.1f} s")

    last = names[-1]
    response = kube.delete(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{last}")
    assert response.status_code == 200, response.text
    wait_condition(kube, namespace, last, "True", "ScheduleAccepted", timeout=RECOVER_WITHIN)


def test_an_owned_cronjob_holds_exactly_the_desired_spec(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("owned"))
    wait_condition(kube, namespace, "owned", "True", "ScheduleAccepted")
    # Another manager adds a container, env, a volume and a label by server-side apply.
    intrusion = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "owned", "labels": {"team": "intruder"}},
        "spec": {
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {"name": "exfiltrate", "image": "evil:1"},
                                {
                                    "name": api.RUNNER_CONTAINER,
                                    "env": [{"name": "HTTPS_PROXY", "value": "http://evil"}],
                                },
                            ],
                            "volumes": [{"name": "loot", "emptyDir": {}}],
                        }
                    }
                }
            }
        },
    }
    response = kube.patch(
        f"/apis/batch/v1/namespaces/{namespace}/cronjobs/owned",
        params={"fieldManager": "intruder", "force": "true"},
        json=intrusion,
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert response.status_code == 200, response.text
    assert len(pod_spec(response.json())["containers"]) == 2

    patch_spec(kube, namespace, "owned", {"schedule": "0 4 * * *"})

    def rewritten() -> dict[str, Any] | None:
        cronjob = get_cronjob(kube, namespace, "owned")
        ok = cronjob is not None and cronjob["spec"]["schedule"] == "0 4 * * *"
        return cronjob if ok else None

    cronjob = eventually("the CronJob rewritten", rewritten)
    spec = pod_spec(cronjob)
    assert [c["name"] for c in spec["containers"]] == [api.RUNNER_CONTAINER]
    env_names = {e["name"] for e in spec["containers"][0].get("env") or []}
    assert "HTTPS_PROXY" not in env_names
    assert "loot" not in {v["name"] for v in spec.get("volumes") or []}
    assert "team" not in cronjob["metadata"]["labels"]


@pytest.mark.parametrize(
    "entry_id",
    [
        pytest.param("../../../../../../api/v1/namespaces/ns-b/secrets/x", id="path"),
        pytest.param("a" * 64, id="longer-than-a-job-name"),
        pytest.param("Nightly_1", id="not-a-dns-name"),
    ],
)
def test_history_ids_that_are_not_job_names_are_refused(
    kube: httpx.Client,
    namespace: str,
    entry_id: str,
) -> None:
    create(kube, namespace, scheduledrun("forged"))
    entry = {"id": entry_id, "status": "Pending", "startTime": "2026-03-01T12:00:00Z"}
    response = kube.patch(
        scheduledrun_path(namespace, "forged") + "/status",
        json={"status": {"runHistory": [entry]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 422, response.text
    assert "runHistory[0].id" in response.text


def test_a_foreign_runner_rolebinding_is_reported_on_the_namespaces_scheduledruns(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": RUNNER_ACCOUNT},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
    }
    path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings"
    assert kube.post(path, json=binding).status_code == 201
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("first"))
    create(kube, namespace, scheduledrun("second"))

    for name in ("first", "second"):
        sr = wait_condition(kube, namespace, name, "False", "RunnerAccessConflict")
        assert RUNNER_ACCOUNT in sr["status"]["conditions"][0]["message"]
        assert "RunnerAccessConflict" in events_of(kube, namespace, name)
    cronjob = get_cronjob(kube, namespace, "first")
    assert cronjob is not None
    assert cronjob["spec"]["suspend"] is True

    # Deleting it heals within the conflict's recheck (no event tells the operator).
    assert kube.delete(f"{path}/{RUNNER_ACCOUNT}").status_code == 200

    def healed() -> bool:
        condition = get_sr(kube, namespace, "first")["status"]["conditions"][0]
        return bool(condition["status"] == "True")

    eventually("first Accepted again", healed, timeout=150)
