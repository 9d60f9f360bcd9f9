"""Hashed `H` schedules (generator/schedule/hashed.py) and everything that reads them: validation,
the rendered CronJob, `status.effectiveSchedule`/`nextRunTime`, the CRD's rules, `render` and
`next`.

Pinned values: the expansion of a given namespace/name is part of the API (a user's nightly
minute must not move with an operator upgrade), so the exact outputs are in the tables. The
spread over 1000 names is measured with a chi-square statistic and printed. Not covered here:
the real apiserver and CronJob (tests/integration/test_admission.py, tests/e2e/test_policies.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from generator.cronjob import render
from generator.cronjob.config import OperatorConfig
from generator.operator import plan
from generator.operator.plan import Observed
from generator.schedule import cron, hashed
from generator.spec import validate
from runner.cli import main
from tests import builders
from tests.unit.test_crd_rules import violations

KEY = "team-a/nightly"
SETTINGS = OperatorConfig(runner_image="example.com/runner:1")


@pytest.mark.parametrize(
    ("schedule", "expanded"),
    [
        pytest.param("H 2 * * *", "51 2 * * *", id="bare-minute"),
        pytest.param("H(0-29) * * * *", "21 * * * *", id="minute-range"),
        pytest.param("H/15 * * * *", "6-59/15 * * * *", id="minute-step"),
        pytest.param("H(0-29)/10 * * * *", "1-29/10 * * * *", id="range-step"),
        pytest.param("0 H * * *", "0 5 * * *", id="bare-hour"),
        pytest.param("0 0 H * *", "0 0 3 * *", id="dom-bare-is-1-28"),
        pytest.param("0 0 1 H *", "0 0 1 4 *", id="month"),
        pytest.param("0 0 * * H", "0 0 * * 4", id="dow"),
        pytest.param("H,H(30-59) * * * *", "51,41 * * * *", id="list-pieces-differ"),
        pytest.param("H/1 * * * *", "51 * * * *", id="step-1-is-bare"),
        pytest.param("H(+05-010) * * * *", "8 * * * *", id="robfig-number-syntax"),
        pytest.param("  H\t2 * * *  ", "51 2 * * *", id="spaces-normalised"),
        pytest.param("0 9 * * THU", "0 9 * * THU", id="names-with-h-untouched"),
        pytest.param("*/5 * * * *", "*/5 * * * *", id="no-h-unchanged"),
        pytest.param("@hourly", "@hourly", id="macros-not-hashed"),
        pytest.param("H * * *", "H * * *", id="four-fields-left-for-the-parser"),
    ],
)
def test_expansion_is_pinned(schedule: str, expanded: str) -> None:
    assert hashed.expand(schedule, KEY) == expanded


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        pytest.param("H(5-1) * * * *", "minute field: range in 'H(5-1)' runs backwards", id="back"),
        pytest.param("H(0-60) * * * *", "minute field: 60 in 'H(0-60)' is outside 0-59", id="hi"),
        pytest.param("* * H(0-31) * *", "day-of-month field: 0 in", id="dom-0"),
        pytest.param("* * * * H(0-7)", "day-of-week field: 7 in", id="dow-7"),
        pytest.param("H/61 * * * *", "step 61 in 'H/61' must be from 1 to 60", id="step-big"),
        pytest.param("H(0-9)/11 * * * *", "must be from 1 to 10", id="step-over-range"),
        pytest.param("H/0 * * * *", "step 0", id="step-0"),
        pytest.param("Hx * * * *", "not a hashed form; use H, H(a-b), H/n or H(a-b)/n", id="x"),
        pytest.param("H-5 * * * *", "not a hashed form", id="h-hyphen"),
        pytest.param("* * * H(jan-mar) *", "month field", id="names-inside"),
        pytest.param("H/5/5 * * * *", "not a hashed form", id="two-steps"),
    ],
)
def test_bad_forms_are_refused_naming_the_field(schedule: str, message: str) -> None:
    with pytest.raises(hashed.HashError, match=None) as caught:
        hashed.expand(schedule, KEY)
    assert message in str(caught.value)
    problems = validate.validate_spec(
        {"schedule": schedule, "targetRef": {"kind": "Agent", "name": "a"}, "prompt": "p"}
    )
    assert [(p.reason, p.field) for p in problems] == [("InvalidSchedule", "spec.schedule")]
    assert message in problems[0].message


_FORMS = st.sampled_from(["H", "H(1-5)", "H/6", "H(1-6)/3", "H(1-1)", "H/2", "*"])


@given(st.text(min_size=1, max_size=40), st.lists(_FORMS, min_size=5, max_size=5))
def test_every_expansion_is_a_schedule_a_cronjob_accepts(name: str, forms: list[str]) -> None:
    expanded = hashed.expand(" ".join(forms), f"ns/{name}")
    assert "H" not in expanded
    cron.parse_schedule(expanded)


def test_the_same_object_gets_the_same_schedule_in_another_process() -> None:
    # Another interpreter with another str-hash seed: nothing may depend on Python's hash().
    code = (
        "from generator.schedule import hashed; "
        "print(hashed.expand('H(0-29)/10 H H * H', 'team-a/x'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {hashed.expand("H(0-29)/10 H H * H", "team-a/x")}


def chi_square(counts: Counter[int], values: range, total: int) -> float:
    expected = total / len(values)
    return sum((counts[v] - expected) ** 2 / expected for v in values)


@pytest.mark.parametrize(
    ("schedule", "field", "values", "limit"),
    [
        # 99.9th percentiles of chi-square with 59, 23 and 27 degrees of freedom.
        pytest.param("H * * * *", 0, range(60), 99.6, id="minute"),
        pytest.param("0 H * * *", 1, range(24), 49.7, id="hour"),
        pytest.param("0 0 H * *", 2, range(1, 29), 55.5, id="day-of-month"),
    ],
)
def test_1000_names_spread_evenly(schedule: str, field: int, values: range, limit: float) -> None:
    names = [f"nightly-report-{i}" for i in range(1000)]
    picked = Counter(int(hashed.expand(schedule, f"team-a/{n}").split()[field]) for n in names)
    statistic = chi_square(picked, values, len(names))
    print(
        f"\n{schedule!r} over 1000 names: {len(picked)} of {len(values)} values used, "
        f"min {min(picked.values())} max {max(picked.values())} per value "
        f"(expected {1000 / len(values):.1f}), chi-square {statistic:.1f} (99.9% limit {limit})"
    )
    assert set(picked) == set(values)
    assert statistic < limit


def test_namespace_is_part_of_the_key() -> None:
    values = {hashed.expand("H H * * *", f"ns-{i}/nightly") for i in range(50)}
    assert len(values) > 40


def sr(schedule: str) -> dict[str, Any]:
    return builders.scheduledrun(uid="u", generation=1, schedule=schedule, target="a")


def test_the_cronjob_and_status_carry_the_expansion() -> None:
    obj = sr("H 2 * * *")
    assert render.render_cronjob(obj, SETTINGS)["spec"]["schedule"] == "51 2 * * *"
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    got = plan.make_plan(obj, SETTINGS, Observed(now, True, None))
    assert got.status_patch is not None
    status = got.status_patch["status"]
    assert (status["effectiveSchedule"], status["nextRunTime"]) == (
        "51 2 * * *",
        "2026-03-02T02:51:00Z",
    )


def test_a_schedule_without_h_is_its_own_effective_schedule() -> None:
    got = plan.make_plan(sr("*/5 * * * *"), SETTINGS, Observed(datetime.now(UTC), True, None))
    assert got.status_patch is not None
    assert got.status_patch["status"]["effectiveSchedule"] == "*/5 * * * *"


@pytest.mark.parametrize(
    "schedule",
    [
        "H 2 * * *",
        "H(0-29) * * * *",
        "H/15 * * * *",
        "H(0-29)/10 H(+8-017) H * H",
        "H,5,H(40-59)/7 * * * *",
        "0 0 H(1-31) H(1-12) H(0-6)",
        "H/+05 * * * *",
    ],
)
def test_crd_accepts_h_forms(schedule: str) -> None:
    assert violations("spec.schedule", schedule) == []


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        pytest.param("H(0-60) * * * *", "minute", id="minute-60"),
        pytest.param("* H(0-24) * * *", "hour", id="hour-24"),
        pytest.param("* * H(0-5) * *", "day-of-month", id="dom-0"),
        pytest.param("* * * H(1-13) *", "month", id="month-13"),
        pytest.param("* * * * H(0-7)", "day-of-week", id="dow-7"),
        pytest.param("H/0 * * * *", "minute", id="step-0"),
        pytest.param("Hx * * * *", "minute", id="junk"),
        pytest.param("* * * H(jan-mar) *", "month", id="names"),
    ],
)
def test_crd_rejects_bad_h_forms_naming_the_field(schedule: str, field: str) -> None:
    messages = violations("spec.schedule", schedule)
    assert len(messages) == 1
    assert f"the {field} field" in messages[0]
    assert "hashed H" in messages[0]


FILE = """\
apiVersion: kagent.dev/v1alpha2
kind: ScheduledRun
metadata:
  name: nightly
  namespace: team-a
spec:
  schedule: "H 2 * * *"
  targetRef: {kind: Agent, name: k8s-agent}
  prompt: "Report."
"""


def test_validate_render_and_next_understand_h() -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", "-"], input=FILE)
    assert (checked.exit_code, checked.output) == (0, "nightly (<stdin>): valid\n")
    rendered = runner.invoke(main, ["render", "-"], input=FILE)
    assert rendered.exit_code == 0, rendered.output
    assert "schedule: 51 2 * * *" in rendered.output
    upcoming = runner.invoke(
        main, ["next", "-", "--after", "2026-03-01T12:00:00Z", "--count", "2"], input=FILE
    )
    assert upcoming.exit_code == 0, upcoming.output
    assert upcoming.output.splitlines()[1:] == [
        '  effective schedule "51 2 * * *" (H hashed from team-a/nightly)',
        "  2026-03-02T02:51:00Z",
        "  2026-03-03T02:51:00Z",
    ]


def test_next_hashes_with_the_namespace_flag_when_the_file_has_none() -> None:
    text = FILE.replace("  namespace: team-a\n", "")
    runner = CliRunner()
    args = ["next", "-", "--after", "2026-03-01T12:00:00Z", "--count", "1"]
    flagged = runner.invoke(main, [*args, "--namespace", "team-a"], input=text)
    assert flagged.output.splitlines()[2] == "  2026-03-02T02:51:00Z"
    defaulted = runner.invoke(main, args, input=text)
    assert "(H hashed from default/nightly)" in defaulted.output
