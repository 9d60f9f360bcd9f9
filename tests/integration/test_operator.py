"""The operator as it runs in its pod (`scheduledrun operator`, a separate process with the admin
kubeconfig) against the real control plane: CronJobs and status from ScheduledRuns, edits,
invalid specs, targets appearing and vanishing, orphan sweeping across a restart, a SIGKILL during
a burst of creations, and /metrics as Prometheus parses it.

Runner pods are not run here (no node): history entries are written directly, as a
runner would, and Jobs are created from the CronJob's template; the metrics test that reads
kagent's series runs two runners as local processes against the a2a-sdk agents. The full
tick-to-history path is the end-to-end tests'.
"""

from __future__ import annotations

import concurrent.futures
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devcluster.agents import running
from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from generator.spec.trigger import manual_job
from runner import api, history
from runner.kube import scheduledruns_path
from tests.kube_helpers import (
    accepted,
    create,
    create_agent,
    get_cronjob,
    get_sr,
    patch_spec,
    scheduledrun,
    stamp,
    wait_condition,
    write_history,
)
from tests.runner_process import create_job, start_runner

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]


def test_apply_gives_the_rendered_cronjob_and_accepted_status(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "helper")
    create(
        kube, namespace, scheduledrun("nightly", schedule="30 12 * * *", timeZone="Europe/Berlin")
    )

    sr = wait_condition(kube, namespace, "nightly", "True", "ScheduleAccepted")
    cronjob = get_cronjob(kube, namespace, "nightly")

    assert cronjob is not None
    spec = cronjob["spec"]
    container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    owner = cronjob["metadata"]["ownerReferences"][0]
    assert (spec["schedule"], spec["timeZone"], spec["suspend"], spec["concurrencyPolicy"]) == (
        "30 12 * * *",
        "Europe/Berlin",
        False,
        "Forbid",
    )
    assert container["args"] == ["--namespace", namespace, "--name", "nightly"]
    assert (owner["kind"], owner["uid"]) == ("ScheduledRun", sr["metadata"]["uid"])
    status = sr["status"]
    assert status["cronJobName"] == "nightly"
    # The next 12:30 in Berlin after the instant the operator decided (when Accepted was set).
    decided = datetime.fromisoformat(accepted(sr)["lastTransitionTime"])  # type: ignore[index]
    berlin = ZoneInfo("Europe/Berlin")
    local = decided.astimezone(berlin)
    due = local.replace(hour=12, minute=30, second=0)
    if due <= local:
        due = (local + timedelta(days=1)).replace(hour=12, minute=30, second=0)
    assert status["nextRunTime"] == stamp(due.astimezone(UTC))
    # The runner's account and binding exist in the namespace.
    sa = kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/kagent-scheduledrun-runner")
    assert sa.status_code == 200
    binding = kube.get(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/"
        "kagent-scheduledrun-runner"
    ).json()
    assert binding["roleRef"]["name"] == "kagent-scheduledrun-runner"


def test_edits_are_followed_by_the_cronjob(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("edited"))
    wait_condition(kube, namespace, "edited", "True", "ScheduleAccepted")

    def cronjob_field(path: Callable[[dict[str, Any]], Any], value: Any) -> Callable[[], bool]:
        def probe() -> bool:
            cronjob = get_cronjob(kube, namespace, "edited")
            return cronjob is not None and path(cronjob) == value

        return probe

    patch_spec(kube, namespace, "edited", {"schedule": "15 4 * * 1"})
    eventually("schedule", cronjob_field(lambda c: c["spec"]["schedule"], "15 4 * * 1"))

    patch_spec(kube, namespace, "edited", {"suspend": True})
    eventually("suspend", cronjob_field(lambda c: c["spec"]["suspend"], True))
    sr = wait_condition(kube, namespace, "edited", "True", "ScheduleAccepted")
    assert "nextRunTime" not in sr["status"]

    patch_spec(kube, namespace, "edited", {"suspend": False, "prompt": "Something else."})
    generation = str(get_sr(kube, namespace, "edited")["metadata"]["generation"])
    eventually(
        "generation annotation",
        cronjob_field(
            lambda c: c["metadata"]["annotations"]["kagent.dev/scheduledrun-generation"], generation
        ),
    )
    sr = wait_condition(kube, namespace, "edited", "True", "ScheduleAccepted")
    assert get_cronjob(kube, namespace, "edited")["spec"]["suspend"] is False  # type: ignore[index]
    assert "nextRunTime" in sr["status"]


# Created invalid: no CronJob, unless it only lacks its target (then a suspended one, ready to
# fire when the target appears). Edited into invalid: the CronJob stays, suspended, so its Jobs
# and their runs live on.
@pytest.mark.parametrize(
    ("spec", "reason", "fresh_cronjob"),
    [
        pytest.param({"schedule": "5-1 * * * *"}, "InvalidSchedule", None, id="backwards-range"),
        pytest.param({"timeZone": "Mars/Olympus"}, "InvalidTimeZone", None, id="unknown-zone"),
        pytest.param(
            {"targetRef": {"kind": "Agent", "name": "absent"}},
            "TargetNotFound",
            "suspended",
            id="no-target",
        ),
    ],
)
def test_invalid_specs_are_not_accepted_and_do_not_fire(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    spec: dict[str, Any],
    reason: str,
    fresh_cronjob: str | None,
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("fresh", **spec))
    create(kube, namespace, scheduledrun("edited"))
    wait_condition(kube, namespace, "edited", "True", "ScheduleAccepted")
    patch_spec(kube, namespace, "edited", spec)

    def cronjob_state(name: str) -> str | None:
        cronjob = get_cronjob(kube, namespace, name)
        if cronjob is None:
            return None
        return "suspended" if cronjob["spec"]["suspend"] else "fires"

    for name in ("fresh", "edited"):
        sr = wait_condition(kube, namespace, name, "False", reason)
        assert "nextRunTime" not in sr["status"]
    assert (cronjob_state("fresh"), cronjob_state("edited")) == (fresh_cronjob, "suspended")
    events = kube.get(f"/api/v1/namespaces/{namespace}/events").json()["items"]
    assert {(e["involvedObject"]["name"], e["reason"]) for e in events} >= {
        ("fresh", reason),
        ("edited", reason),
    }


def test_target_appearing_and_vanishing(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(kube, namespace, scheduledrun("waits", target="late", kind="SandboxAgent"))
    wait_condition(kube, namespace, "waits", "False", "TargetNotFound")

    began = time.monotonic()
    create_agent(kube, namespace, "late", kind="SandboxAgent")
    wait_condition(kube, namespace, "waits", "True", "ScheduleAccepted")
    assert time.monotonic() - began < 10
    assert get_cronjob(kube, namespace, "waits")["spec"]["suspend"] is False  # type: ignore[index]

    kube.delete(f"/apis/kagent.dev/v1alpha2/namespaces/{namespace}/sandboxagents/late")
    sr = wait_condition(kube, namespace, "waits", "False", "TargetNotFound")
    assert get_cronjob(kube, namespace, "waits")["spec"]["suspend"] is True  # type: ignore[index]
    assert "nextRunTime" not in sr["status"]


def test_orphaned_pending_entries_are_resolved_across_a_restart(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("orphans"))
    wait_condition(kube, namespace, "orphans", "True", "ScheduleAccepted")
    cronjob = get_cronjob(kube, namespace, "orphans")
    assert cronjob is not None
    jobs_path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    operator.stop()

    # While the operator is down: a Job that hits its deadline, and one that is deleted.
    for job_name, deadline in (("orphans-deadline", 1), ("orphans-deleted", 600)):
        job = manual_job(cronjob, job_name)
        job["spec"]["activeDeadlineSeconds"] = deadline
        assert kube.post(jobs_path, json=job).status_code == 201
    now = datetime.now(UTC)
    pending = [
        history.new_pending(
            job_id, "Manual", now - timedelta(seconds=i), now - timedelta(seconds=i)
        )
        for i, job_id in enumerate(("orphans-deadline", "orphans-deleted"))
    ]
    write_history(kube, namespace, "orphans", pending)
    kube.delete(f"{jobs_path}/orphans-deleted", params={"propagationPolicy": "Background"})

    def failed() -> bool:
        conditions = (
            kube.get(f"{jobs_path}/orphans-deadline").json()["status"].get("conditions", [])
        )
        return any(c["type"] == "Failed" and c["status"] == "True" for c in conditions)

    eventually("the Job controller fails the Job", failed)
    operator.start()

    def resolved() -> dict[str, str] | None:
        history = get_sr(kube, namespace, "orphans")["status"]["runHistory"]
        outcome = {e["id"]: e["status"] for e in history}
        return None if "Pending" in outcome.values() else outcome

    outcome = eventually("entries resolved after the restart", resolved)
    assert outcome == {"orphans-deadline": "Timeout", "orphans-deleted": "Failed"}
    ended = {e["id"]: e for e in get_sr(kube, namespace, "orphans")["status"]["runHistory"]}
    assert ended["orphans-deleted"]["message"] == "job deleted before the runner finished"
    assert ended["orphans-deadline"]["message"].startswith("DeadlineExceeded")

    # And while it runs: a Job deleted under a fresh Pending entry. Written together with an
    # entry whose Job never existed, which the same sweep ends: once that one is Failed, the
    # operator has looked at the live entry too, and must have left it Pending.
    job = manual_job(cronjob, "orphans-live")
    assert kube.post(jobs_path, json=job).status_code == 201
    live = {**pending[0], "id": "orphans-live", "scheduledTime": stamp(datetime.now(UTC)),
            "startTime": stamp(datetime.now(UTC))}  # fmt: skip
    witness = {**live, "id": "orphans-never"}
    write_history(kube, namespace, "orphans", [live, witness, *ended.values()])

    def statuses() -> dict[str, str]:
        entries = get_sr(kube, namespace, "orphans")["status"]["runHistory"]
        return {e["id"]: e["status"] for e in entries}

    eventually("the sweep", lambda: statuses()["orphans-never"] == "Failed")
    assert statuses()["orphans-live"] == "Pending"
    kube.delete(f"{jobs_path}/orphans-live", params={"propagationPolicy": "Background"})
    eventually("live entry resolved", resolved)


def own_writes(operator: OperatorProcess) -> dict[str, float]:
    """The operator's request counter: writes by verb."""
    writes: dict[str, float] = {}
    for family in text_string_to_metric_families(operator.metrics()):
        for s in family.samples:
            if s.name == "kagent_scheduledrun_api_requests_total" and s.labels["verb"] != "GET":
                writes[s.labels["verb"]] = writes.get(s.labels["verb"], 0) + s.value
    return writes


def test_one_reconcile_makes_one_status_write_that_also_ends_an_orphan(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str
) -> None:
    """A ScheduledRun the operator first sees holding a `Pending` entry whose Job is gone: its
    status (Accepted, cronJobName, ...) and the ended entry are one write, counted by the
    operator's request counter (the sweep used to make a second)."""
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("orphaned"))
    now = datetime.now(UTC)
    write_history(
        kube, namespace, "orphaned", [history.new_pending("orphaned-gone", "Manual", now, now)]
    )
    operator = OperatorProcess(control_plane, "--namespace", namespace).start()
    try:

        def settled() -> dict[str, Any] | None:
            sr = get_sr(kube, namespace, "orphaned")
            statuses = [e["status"] for e in sr["status"]["runHistory"]]
            return (
                sr
                if (accepted(sr) or {}).get("status") == "True" and statuses == ["Failed"]
                else None
            )

        sr = eventually("accepted, the orphan ended", settled)
        # Two server-side applies for the runner's ServiceAccount and RoleBinding, the CronJob's
        # create, and one status write.
        assert own_writes(operator) == {"PATCH": 3, "POST": 1}
        assert sr["status"]["runHistory"][0]["message"] == "job deleted before the runner finished"
    finally:
        operator.stop()
        operator.log.unlink(missing_ok=True)


def test_sigkill_during_a_burst_of_200_creations(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "helper")
    names = [f"burst-{i:03d}" for i in range(200)]

    def make(name: str) -> None:
        with control_plane.client() as client:
            create(client, namespace, scheduledrun(name, schedule="0 3 * * *"))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(make, name) for name in names]
        for i, future in enumerate(futures):
            future.result()
            if i == 60:
                operator.stop(signal.SIGKILL)
                operator.start()

    def all_accepted() -> bool:
        items = kube.get(scheduledruns_path(namespace)).json()["items"]
        ok = [sr for sr in items if (accepted(sr) or {}).get("status") == "True"]
        return len(ok) == len(names)

    eventually("all 200 accepted", all_accepted, timeout=180)
    cronjobs = kube.get(
        f"/apis/batch/v1/namespaces/{namespace}/cronjobs",
        params={"labelSelector": api.LABEL_SCHEDULEDRUN},
    ).json()["items"]
    owners = sorted(c["metadata"]["ownerReferences"][0]["name"] for c in cronjobs)
    assert owners == names  # exactly one CronJob per ScheduledRun


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_finished_runs_once(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("counted"))
    create(kube, namespace, scheduledrun("paused", suspend=True))
    wait_condition(kube, namespace, "counted", "True", "ScheduleAccepted")
    wait_condition(kube, namespace, "paused", "True", "ScheduleAccepted")
    # The operator counts runs that end after its start, which came before it accepted these.
    # History times are whole seconds: the runs below end in a later second than that.
    accepted_at = datetime.now(UTC)

    def past_start() -> datetime | None:
        now = datetime.now(UTC)
        return now if now.replace(microsecond=0) > accepted_at else None

    now = eventually("a whole second after the operator's start", past_start, 5)

    def entry(job_id: str, status: str, ago: int, seconds: int) -> dict[str, Any]:
        start = now - timedelta(seconds=ago)
        due = start - timedelta(seconds=2)
        end = start + timedelta(seconds=seconds)
        # The agent took the prompt `ago` seconds after the start: now, after the operator's start
        # (a dispatch counts when it happened, not before the operator started).
        sent = {} if status == "DispatchFailed" else {"sessionID": f"ctx-{job_id}"}
        return {"id": job_id, "trigger": "Scheduled", "scheduledTime": stamp(due),
                "startTime": stamp(start), "endTime": stamp(end), "status": status,
                "message": "x", "dispatchSeconds": float(max(ago, 1)), **sent}  # fmt: skip

    # Sent and ended before the operator started.
    old = {**entry("counted-old", "Succeeded", 7200, 10), "dispatchSeconds": 1.0}
    # Runs that end now, after the operator started (it has been up since the test began).
    runs = [entry("counted-3", "DispatchFailed", 0, 1), entry("counted-2", "Timeout", 5, 5),
            entry("counted-1", "Succeeded", 6, 6), old]  # fmt: skip
    pending = {**runs[0], "status": "Pending"}
    pending.pop("endTime")
    pending.pop("dispatchSeconds")  # still sending
    # Its Job exists (running: no node here), so the sweep leaves the Pending entry to its runner.
    cronjob = get_cronjob(kube, namespace, "counted")
    assert cronjob is not None
    job = manual_job(cronjob, "counted-3")
    assert kube.post(f"/apis/batch/v1/namespaces/{namespace}/jobs", json=job).status_code == 201
    write_history(kube, namespace, "counted", [pending, *runs[1:]])
    write_history(kube, namespace, "counted", runs)

    def outcome(name: str) -> float:
        labels = {("namespace", namespace), ("name", "counted"), ("outcome", name)}
        key = ("kagent_scheduledrun_outcome_total", frozenset(labels))
        return samples(operator.metrics()).get(key, 0.0)

    labels = {("namespace", namespace), ("name", "counted")}

    def dispatched(status: str) -> float:
        key = ("kagent_scheduledrun_dispatch_total", frozenset(labels | {("status", status)}))
        return samples(operator.metrics()).get(key, 0.0)

    eventually("DispatchFailed counted", lambda: dispatched("DispatchFailed") == 1)
    got = samples(operator.metrics())
    # kagent's meanings: the outcome of dispatched runs only; the dispatch by status after it.
    assert [outcome(o) for o in ("Succeeded", "Timeout", "DispatchFailed")] == [1, 1, 0]
    assert [dispatched("Pending"), dispatched("DispatchFailed")] == [2, 1]
    run_count = ("kagent_scheduledrun_run_duration_seconds_count",
                 frozenset(labels | {("outcome", "Timeout")}))  # fmt: skip
    assert got[run_count] == 1
    assert got[("kagent_scheduledrun_dispatch_duration_seconds_count", frozenset(labels))] == 3
    assert got[("kagent_scheduledrun_active_schedules", frozenset())] >= 1

    operator.stop()
    operator.start()
    eventually(
        "active schedules after restart",
        lambda: (
            samples(operator.metrics()).get(
                ("kagent_scheduledrun_active_schedules", frozenset()), 0
            )
            >= 1
        ),
    )
    assert [outcome(o) for o in ("Succeeded", "Timeout")] == [0, 0]
    assert [dispatched("Pending"), dispatched("DispatchFailed")] == [0, 0]


# Go's prometheus.ExponentialBuckets(0.1, 2, 10) as kagent's exposition writes them.
KAGENT_DISPATCH_BUCKETS = {"0.1", "0.2", "0.4", "0.8", "1.6", "3.2", "6.4", "12.8", "25.6",
                           "51.2", "+Inf"}  # fmt: skip


def test_metrics_after_a_real_run_and_a_dispatch_failure_are_kagents(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    """Two real runners (`scheduledrun run` processes) against the a2a-sdk agents: one agent
    takes the prompt and completes, one answers the send with a JSON-RPC error. The operator's
    /metrics then reads as kagent's controller would have counted the same two runs."""
    runs = {"took": "echo-metrics", "refused": "rpcerror-metrics"}
    with running() as agents:
        for name, agent in runs.items():
            create_agent(kube, namespace, agent)
            create(kube, namespace, scheduledrun(name, target=agent, schedule="0 3 1 1 *"))
            wait_condition(kube, namespace, name, "True", "ScheduleAccepted")
        runners = []
        try:
            for name in runs:
                uid = create_job(control_plane, namespace, f"{name}-1", datetime.now(UTC))
                runners.append(
                    start_runner(control_plane, agents, namespace, name, f"{name}-1", uid)
                )
            for runner in runners:
                runner.communicate(timeout=120)  # reads its log, so a full pipe never blocks it
            codes = [runner.returncode for runner in runners]
        finally:
            for runner in runners:
                if runner.poll() is None:
                    runner.kill()
                    runner.wait()
    assert codes == [api.EXIT_SUCCEEDED, api.EXIT_FINAL_FAILURE]
    took, refused = (get_sr(kube, namespace, name)["status"]["runHistory"][0] for name in runs)
    assert (took["status"], refused["status"]) == ("Succeeded", "DispatchFailed")

    def series(family: str, name: str, **labels: str) -> float | None:
        key = frozenset({("namespace", namespace), ("name", name), *labels.items()})
        return samples(operator.metrics()).get((family, key))

    def counted() -> bool:
        return (
            series("kagent_scheduledrun_outcome_total", "took", outcome="Succeeded") == 1
            and series("kagent_scheduledrun_dispatch_total", "refused", status="DispatchFailed")
            == 1
        )

    eventually("both runs counted", counted)
    got = samples(operator.metrics())
    mine = [(family, dict(labels)) for family, labels in got if ("name", "took") in labels or
            ("name", "refused") in labels]  # fmt: skip
    dispatches = sorted((lab["name"], lab["status"]) for fam, lab in mine
                        if fam == "kagent_scheduledrun_dispatch_total")  # fmt: skip
    assert dispatches == [("refused", "DispatchFailed"), ("took", "Pending")]
    outcomes = sorted((lab["name"], lab["outcome"]) for fam, lab in mine
                      if fam == "kagent_scheduledrun_outcome_total")  # fmt: skip
    assert outcomes == [("took", "Succeeded")]  # kagent counts no outcome for a failed dispatch
    for name, entry in (("took", took), ("refused", refused)):
        # The send's duration exactly as the runner measured it and wrote it in the entry.
        family = "kagent_scheduledrun_dispatch_duration_seconds"
        assert series(f"{family}_count", name) == 1
        assert series(f"{family}_sum", name) == pytest.approx(entry["dispatchSeconds"])
        buckets = {lab["le"] for fam, lab in mine if fam == f"{family}_bucket" and
                   lab["name"] == name}  # fmt: skip
        assert buckets == KAGENT_DISPATCH_BUCKETS
    assert got[("kagent_scheduledrun_active_schedules", frozenset())] >= 2


def interval_gauges(process: OperatorProcess, namespace: str) -> int:
    """ScheduledRuns of `namespace` the operator has reconciled since it started (each sets its
    schedule-interval gauge)."""
    return sum(
        1
        for family in text_string_to_metric_families(process.metrics())
        for sample in family.samples
        if sample.name == "kagent_scheduledrun_schedule_interval_seconds"
        and sample.labels.get("namespace") == namespace
    )


def test_a_restart_over_scheduledruns_in_step_writes_nothing(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str
) -> None:
    """Started again over twenty ScheduledRuns it left in step (CronJobs, status, the runner's
    ServiceAccount and RoleBinding), the operator looks at each and writes nothing: not even an
    apply that would change nothing, from twenty reconciles at once."""
    create_agent(kube, namespace, "helper")
    names = [f"daily-{i:02d}" for i in range(20)]
    for name in names:
        create(kube, namespace, scheduledrun(name, schedule="0 9 * * *"))
    first = OperatorProcess(control_plane, "--namespace", namespace).start()
    try:
        for name in names:
            wait_condition(kube, namespace, name, "True", "ScheduleAccepted")
        eventually("every schedule reconciled", lambda: interval_gauges(first, namespace) == 20)
    finally:
        first.stop()
    again = OperatorProcess(control_plane, "--namespace", namespace).start()
    try:
        eventually("every schedule looked at", lambda: interval_gauges(again, namespace) == 20)
        time.sleep(2)  # the echo of any write would come back within this
        assert own_writes(again) == {}
    finally:
        again.stop()
        again.log.unlink(missing_ok=True)
