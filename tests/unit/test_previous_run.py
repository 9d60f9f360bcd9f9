"""`spec.includePreviousRun` (runner/previous.py and its use in runner/run.py): which run is
"previous", the text of the second part, and that a real a2a-sdk agent receives the prompt
unaltered as the first part and this text as the second, in both protocols. On the cluster with
the CronJob controller: tests/e2e/test_policies.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.agents import AgentServer, running
from runner import previous
from tests.unit.test_runner_run import JOB, FakeApiServer, job, run, scheduledrun


def entry(id_: str, minute: int, status: str, trigger: str = "Scheduled") -> dict[str, Any]:
    due = f"2026-03-01T11:{minute:02d}:00Z"
    found: dict[str, Any] = {"id": id_, "trigger": trigger, "startTime": due, "status": status}
    if trigger == "Scheduled":
        found["scheduledTime"] = due
    return found | {"message": f"{id_} said {status.lower()}"}


OWN = entry(JOB, 59, "Pending")


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        pytest.param([], None, id="first-run"),
        pytest.param([entry("a", 58, "Succeeded")], "a", id="one-before"),
        pytest.param([entry("b", 58, "Pending"), entry("a", 57, "Failed")], "a", id="pending-skip"),
        pytest.param([entry("m", 58, "Failed", "Manual"), entry("a", 50, "Failed")], "m",
                     id="manual-runs-are-runs"),
        pytest.param([{**entry("z", 59, "Failed"), "startTime": "2026-03-01T12:30:00Z",
                       "scheduledTime": "2026-03-01T12:30:00Z"}, entry("a", 1, "Succeeded")],
                     "a", id="newer-than-own-is-not-previous"),
        pytest.param([OWN, entry("a", 3, "Timeout")], "a", id="own-entry-skipped"),
    ],
)  # fmt: skip
def test_which_run_is_previous(runs: list[dict[str, Any]], expected: str | None) -> None:
    found = previous.previous(runs, OWN)
    assert (found or {}).get("id") == expected


def test_the_part_text() -> None:
    text = previous.context_part([entry("nightly-1", 58, "Failed")], OWN)
    assert text.splitlines() == [
        previous.HEADER,
        "run: nightly-1 (Scheduled)",
        "scheduled time: 2026-03-01T11:58:00Z",
        "status: Failed",
        "message: nightly-1 said failed",
    ]
    manual = previous.context_part([entry("now-1", 58, "Succeeded", "Manual")], OWN)
    assert "start time: 2026-03-01T11:58:00Z" in manual.splitlines()
    assert previous.context_part([], OWN).splitlines()[1] == "none: this is the first recorded run"


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


@pytest.mark.parametrize("protocol", ["0.3", "1.0"])
@pytest.mark.parametrize("include", [True, False])
def test_the_agent_receives_the_prompt_then_the_part(
    agents: AgentServer, protocol: str, include: bool
) -> None:
    name = f"echo-previous-{protocol.replace('.', '')}-{include}".lower()
    sr = scheduledrun(name, includePreviousRun=include)
    sr["status"] = {"runHistory": [entry("nightly-1", 58, "Failed")]}
    code, _ = run(FakeApiServer(sr, job()), agents.base_url, protocol)
    assert code == 0
    (received,) = agents.received_by(name)
    expected = previous.context_part(sr["status"]["runHistory"], OWN)
    assert received.parts == (
        ("write the nightly report", expected) if include else ("write the nightly report",)
    )
    if include:
        assert received.part_metadata[1] == previous.METADATA
