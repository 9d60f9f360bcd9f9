"""The runner's stop-rule backstop and the `status.scheduledRuns` counter (runner/limits.py and
its use in runner/run.py), against the in-memory apiserver of test_runner_run.py and a real
a2a-sdk agent: a refused run sends nothing and writes nothing; a counted run raises the counter in
the very patch that records it; a count raised by another runner meanwhile is seen before sending.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from devcluster.agents import AgentServer, running
from runner import api, limits
from tests.unit.test_runner_run import JOB, FakeApiServer, job, run, scheduledrun

TICK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "status", "trigger", "due", "refused"),
    [
        pytest.param({}, {}, "Scheduled", TICK, None, id="no-rules"),
        pytest.param({"endTime": "2026-03-01T12:00:00Z"}, {}, "Scheduled", TICK, None, id="at-end"),
        pytest.param(
            {"endTime": "2026-03-01T11:59:59Z"}, {}, "Scheduled", TICK, "after spec.endTime",
            id="after-end",
        ),
        pytest.param(
            {"endTime": "2026-03-01T11:00:00Z"}, {}, "Manual", TICK, None, id="manual-after-end"
        ),
        pytest.param({"maxRuns": 3}, {"scheduledRuns": 2}, "Scheduled", TICK, None, id="below"),
        pytest.param(
            {"maxRuns": 3}, {"scheduledRuns": 3}, "Scheduled", TICK, "spec.maxRuns is 3",
            id="at-max",
        ),
        pytest.param({"maxRuns": 3}, {"scheduledRuns": 9}, "Manual", TICK, None, id="manual-max"),
        pytest.param({"maxRuns": 1}, {}, "Scheduled", TICK, None, id="first-run-counter-absent"),
    ],
)  # fmt: skip
def test_refusal(
    spec: dict[str, Any], status: dict[str, Any], trigger: str, due: datetime, refused: str | None
) -> None:
    got = limits.refusal(spec, status, trigger, due)
    assert (got is None) if refused is None else (got is not None and refused in got)


@pytest.mark.parametrize(
    ("status", "trigger", "expected"),
    [
        pytest.param({}, "Scheduled", {"scheduledRuns": 1}, id="first"),
        pytest.param({"scheduledRuns": 4}, "Scheduled", {"scheduledRuns": 5}, id="next"),
        pytest.param({"scheduledRuns": 4}, "Manual", {}, id="manual-not-counted"),
    ],
)
def test_counted(status: dict[str, Any], trigger: str, expected: dict[str, Any]) -> None:
    assert limits.counted(status, {"id": JOB, "trigger": trigger}) == expected


class RecordingApiServer(FakeApiServer):
    """Also keeps every status patch that landed."""

    def __init__(self, scheduledrun: dict[str, Any], job: dict[str, Any] | None) -> None:
        super().__init__(scheduledrun, job)
        self.landed: list[dict[str, Any]] = []

    def _store(self, changes: dict[str, Any]) -> None:
        self.landed.append(changes)
        super()._store(changes)


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


def sent(agents: AgentServer, name: str) -> int:
    return len(agents.received_by(name))


def test_a_scheduled_run_is_counted_in_the_write_that_records_it(agents: AgentServer) -> None:
    sr = scheduledrun("echo-counted", maxRuns=2)
    sr["status"] = {"scheduledRuns": 1}
    fake = RecordingApiServer(sr, job())
    code, _ = run(fake, agents.base_url)
    assert code == api.EXIT_SUCCEEDED
    first = fake.landed[0]
    assert (first["runHistory"][0]["status"], first["scheduledRuns"]) == ("Pending", 2)
    assert [p.get("scheduledRuns") for p in fake.landed[1:]] == [None] * (len(fake.landed) - 1)
    assert sent(agents, "echo-counted") == 1


def test_a_run_beyond_max_runs_sends_and_writes_nothing(agents: AgentServer) -> None:
    sr = scheduledrun("echo-over", maxRuns=2)
    sr["status"] = {"scheduledRuns": 2}
    fake = RecordingApiServer(sr, job())
    code, log = run(fake, agents.base_url)
    assert (code, fake.landed, sent(agents, "echo-over")) == (api.EXIT_SUCCEEDED, [], 0)
    assert "spec.maxRuns is 2" in next(line["reason"] for line in log if line["step"] == "refused")


def test_a_count_raised_by_another_runner_is_seen_before_sending(agents: AgentServer) -> None:
    sr = scheduledrun("echo-raced", maxRuns=2)
    sr["status"] = {"scheduledRuns": 1}
    fake = RecordingApiServer(sr, job())
    fake.before_patch.append({"scheduledRuns": 2})  # lands first: the runner's write conflicts
    code, _ = run(fake, agents.base_url)
    assert (code, fake.conflicts, sent(agents, "echo-raced")) == (api.EXIT_SUCCEEDED, 1, 0)
    assert fake.landed == [{"scheduledRuns": 2}]


@pytest.mark.parametrize(
    ("annotations", "sends"),
    [
        pytest.param({api.ANNOTATION_SCHEDULED_TIME: "2026-03-01T12:00:00Z"}, 1, id="tick-at-end"),
        pytest.param({api.ANNOTATION_SCHEDULED_TIME: "2026-03-01T12:01:00Z"}, 0, id="tick-after"),
        pytest.param({api.ANNOTATION_INSTANTIATE: "manual"}, 1, id="manual-after-end"),
    ],
)
def test_end_time_backstop(
    agents: AgentServer, annotations: dict[str, str], sends: int, request: pytest.FixtureRequest
) -> None:
    name = f"echo-end-{request.node.callspec.id}"
    fake = RecordingApiServer(scheduledrun(name, endTime="2026-03-01T12:00:00Z"), job(annotations))
    code, _ = run(fake, agents.base_url)
    assert (code, sent(agents, name), len(fake.landed) > 0) == (0, sends, sends == 1)
