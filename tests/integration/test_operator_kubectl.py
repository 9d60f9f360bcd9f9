"""What a platform engineer sees through the real kubectl (and `scheduledrun`) with the operator
running as its own process on the real control plane:
- `kubectl get sr` tells at a glance whether each schedule works (Accepted and its reason, the
  suspension in effect, the runs), `-o wide` names the CronJob (also when shortened, and
  `kubectl create job --from=cronjob/<that name>` works);
- messages made whole: TargetNotFound names the namespace, a never-firing schedule is flagged
  in status and by an event, `kubectl apply` shows the value a CEL rule refused and says why a
  cross-namespace targetRef is refused;
- `scheduledrun trigger` refuses a ScheduledRun that is not Accepted and a second run under
  Forbid (naming the active Job), and `--force` overrides.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from tests.kube_helpers import create, create_agent, scheduledrun, wait_condition

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

LONG = "a-scheduled-run-whose-name-is-longer-than-a-cronjob-may-be-named"


def table(text: str) -> list[dict[str, str]]:
    """kubectl's table as rows of {HEADER: cell}, cut at the header's column starts (cells such
    as a schedule hold spaces)."""
    header, *lines = text.rstrip("\n").splitlines()
    names = header.split("  ")
    names = [n.strip() for n in names if n.strip()]
    starts = [header.index(n) for n in names]
    rows = []
    for line in lines:
        cells = [
            line[start : (starts[i + 1] if i + 1 < len(starts) else None)].strip()
            for i, start in enumerate(starts)
        ]
        rows.append(dict(zip(names, cells, strict=True)))
    return rows


def test_get_sr_columns_tell_whether_each_schedule_works(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("works", schedule="0 2 * * *"))
    create(kube, namespace, scheduledrun("no-target", target="absent"))
    create(kube, namespace, scheduledrun("bad-zone", timeZone="Mars/Olympus"))
    create(kube, namespace, scheduledrun("never", schedule="0 0 30 2 *"))
    create(kube, namespace, scheduledrun(LONG))
    for name, status, reason in [
        ("works", "True", "ScheduleAccepted"),
        ("no-target", "False", "TargetNotFound"),
        ("bad-zone", "False", "InvalidTimeZone"),
        ("never", "True", "ScheduleNeverFires"),
        (LONG, "True", "ScheduleAccepted"),
    ]:
        wait_condition(kube, namespace, name, status, reason)

    printed = control_plane.kubectl("-n", namespace, "get", "sr").stdout
    rows = {row["NAME"]: row for row in table(printed)}

    assert list(rows["works"]) == [
        "NAME",
        "SCHEDULE",
        "ACCEPTED",
        "REASON",
        "SUSPENDED",
        "LAST STATUS",
        "LAST RUN",
        "MISSED",
        "NEXT RUN",
        "AGE",
    ], printed
    shown = {
        name: (row["ACCEPTED"], row["REASON"], row["SUSPENDED"], bool(row["NEXT RUN"]))
        for name, row in rows.items()
    }
    assert shown == {
        "works": ("True", "ScheduleAccepted", "false", True),
        "no-target": ("False", "TargetNotFound", "true", False),
        "bad-zone": ("False", "InvalidTimeZone", "true", False),
        "never": ("True", "ScheduleNeverFires", "false", False),
        LONG: ("True", "ScheduleAccepted", "false", True),
    }, printed

    wide = {
        r["NAME"]: r
        for r in table(control_plane.kubectl("-n", namespace, "get", "sr", "-o", "wide").stdout)
    }
    cronjob = wide[LONG]["CRONJOB"]
    assert cronjob != LONG
    assert len(cronjob) <= 52
    assert (wide["works"]["CRONJOB"], wide["works"]["TARGET"]) == ("works", "helper")
    control_plane.kubectl("-n", namespace, "create", "job", f"--from=cronjob/{cronjob}", "now")


def test_messages_are_whole(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("no-target", target="absent"))
    create(kube, namespace, scheduledrun("never", schedule="0 0 30 2 *"))
    sr = wait_condition(kube, namespace, "no-target", "False", "TargetNotFound")
    [condition] = sr["status"]["conditions"]
    assert condition["message"] == (
        f'Agent "absent" not found in namespace "{namespace}"; the CronJob stays suspended until'
        " it exists"
    )
    never = wait_condition(kube, namespace, "never", "True", "ScheduleNeverFires")
    assert "never fires" in never["status"]["conditions"][0]["message"]

    def never_event() -> list[str]:
        events = kube.get(f"/api/v1/namespaces/{namespace}/events").json()["items"]
        return [e["message"] for e in events if e["reason"] == "ScheduleNeverFires"]

    [message] = eventually("a ScheduleNeverFires event", never_event)
    assert '"0 0 30 2 *"' in message


def kubectl_apply(plane: ControlPlane, namespace: str, obj: dict[str, Any]) -> str:
    result = plane.kubectl(
        "apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj), check=False
    )
    assert result.returncode != 0, result.stdout
    return result.stderr


@pytest.mark.parametrize(
    ("change", "printed"),
    [
        pytest.param(
            {"schedule": "* * * *"},
            'schedule must have exactly five fields separated by spaces, "minute hour'
            ' day-of-month month day-of-week" (for example "0 9 * * 1-5"), or be a macro such as'
            ' @daily (got "* * * *")',
            id="four-fields",
        ),
        pytest.param(
            {"schedule": "61 * * * *"},
            '(got "61 * * * *")',
            id="minute",
        ),
        pytest.param({"timeZone": "Local"}, '(got "Local")', id="local-zone"),
        pytest.param({"timeout": "15 minutes"}, '(got "15 minutes")', id="timeout"),
        pytest.param(
            {"targetRef": {"kind": "Agent", "name": "helper", "namespace": "other"}},
            "targetRef.namespace is not supported: the target must be in the ScheduledRun's own"
            ' namespace; create the ScheduledRun in namespace "other" instead',
            id="cross-namespace-target",
        ),
    ],
)
def test_kubectl_apply_shows_the_refused_value(
    control_plane: ControlPlane, namespace: str, change: dict[str, Any], printed: str
) -> None:
    obj = scheduledrun("refused")
    obj["spec"].update(change)
    assert printed in kubectl_apply(control_plane, namespace, obj)


def scheduledrun_cli(plane: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("scheduledrun")), *args],
        env=plane.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_trigger_refuses_what_would_fail_or_overlap(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(kube, namespace, scheduledrun("orphan", target="absent"))
    wait_condition(kube, namespace, "orphan", "False", "TargetNotFound")
    refused = scheduledrun_cli(control_plane, "trigger", "orphan", "-n", namespace, "--no-wait")
    assert refused.returncode == 1
    assert 'scheduledrun "orphan" is not Accepted: TargetNotFound' in refused.stderr
    assert refused.stdout == ""

    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("forbid", concurrencyPolicy="Forbid"))
    wait_condition(kube, namespace, "forbid", "True", "ScheduleAccepted")
    # No kubelet runs here: the first run's Job stays active.
    first = scheduledrun_cli(control_plane, "trigger", "forbid", "-n", namespace, "--no-wait")
    assert first.returncode == 0, first.stderr
    assert "created from cronjob.batch/forbid" in first.stdout
    job = first.stdout.split()[0].removeprefix("job.batch/")
    second = scheduledrun_cli(control_plane, "trigger", "forbid", "-n", namespace, "--no-wait")
    assert second.returncode == 1
    assert "concurrencyPolicy Forbid" in second.stderr
    assert job in second.stderr
    forced = scheduledrun_cli(
        control_plane, "trigger", "forbid", "-n", namespace, "--no-wait", "--force"
    )
    assert forced.returncode == 0, forced.stderr
