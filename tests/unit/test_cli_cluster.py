"""The pure parts of `scheduledrun trigger` and `history`: the manual Job and the history table.

The commands' cluster round trips are covered end to end (tests/e2e), not here."""

from __future__ import annotations

from typing import Any

import pytest

from generator.cli.cluster import history_table
from generator.spec.trigger import manual_job, manual_job_name
from runner import api

CRONJOB: dict[str, Any] = {
    "metadata": {"name": "nightly-report", "namespace": "team-a", "uid": "cj-uid"},
    "spec": {
        "jobTemplate": {
            "metadata": {"labels": {api.LABEL_SCHEDULEDRUN: "nightly-report"}},
            "spec": {"backoffLimit": 2, "template": {"spec": {"containers": []}}},
        }
    },
}


def test_manual_job_is_marked_manual_and_owned_by_its_cronjob() -> None:
    job = manual_job(CRONJOB, "nightly-report-manual-abc123")
    assert job["metadata"]["annotations"][api.ANNOTATION_INSTANTIATE] == "manual"
    assert job["metadata"]["labels"] == {api.LABEL_SCHEDULEDRUN: "nightly-report"}
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "CronJob",
        "nightly-report",
        "cj-uid",
        True,
    )
    assert job["spec"] == CRONJOB["spec"]["jobTemplate"]["spec"]


@pytest.mark.parametrize(
    ("cronjob_name", "expected"),
    [
        pytest.param("short", "short-manual-abc123", id="short name kept"),
        pytest.param("a" * 52, "a" * 49 + "-manual-abc123", id="long name cut to 63"),
        pytest.param("a" * 48 + "-bcde", "a" * 48 + "-manual-abc123", id="no double dash"),
    ],
)
def test_manual_job_name_fits_a_label(cronjob_name: str, expected: str) -> None:
    name = manual_job_name(cronjob_name, "abc123")
    assert name == expected
    assert len(name) <= 63


def test_history_table_lists_entries_in_order_with_one_line_messages() -> None:
    entries = [
        {"id": "run-2", "trigger": "Manual", "status": "Failed", "message": "agent said:\nno"},
        {"id": "run-1", "trigger": "Scheduled", "status": "Succeeded", "message": "x" * 100},
    ]
    lines = history_table(entries, message_width=20).splitlines()
    assert lines[0].split() == [
        "ID",
        "TRIGGER",
        "STATUS",
        "SCHEDULED",
        "STARTED",
        "ENDED",
        "MESSAGE",
    ]
    assert lines[1].split()[:3] == ["run-2", "Manual", "Failed"]
    assert lines[1].endswith("agent said: no")
    assert lines[2].endswith("x" * 19 + "…")
