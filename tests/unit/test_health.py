"""generator.operator.health: whether the operator can do its job, from when it last heard from
the API server (a watch event or a successful list) and the error of its last failed probe.
The server and the probe around it are test_health_server.py's; the real outage is
tests/integration/test_operator_health.py's."""

from __future__ import annotations

import pytest

from generator.operator import health
from generator.operator.health import Liveness, Verdict, judge


@pytest.mark.parametrize(
    ("now", "last_word", "stale_after", "error", "expected"),
    [
        pytest.param(
            100.0, 100.0, 30.0, None, Verdict(True, "ok: last word from the API server 0.0s ago"),
            id="just heard",
        ),
        pytest.param(
            130.0, 100.0, 30.0, None, Verdict(True, "ok: last word from the API server 30.0s ago"),
            id="exactly the threshold: still healthy",
        ),
        pytest.param(
            130.5, 100.0, 30.0, None,
            Verdict(
                False,
                "unhealthy: no watch event and no successful list from the API server for 30.5s"
                " (more than 30s)",
            ),
            id="just past the threshold",
        ),
        pytest.param(
            200.0, 100.0, 30.0, "Unreachable: GET /apis/...: ConnectionRefusedError()",
            Verdict(
                False,
                "unhealthy: no watch event and no successful list from the API server for 100.0s"
                " (more than 30s); last error: Unreachable: GET /apis/...:"
                " ConnectionRefusedError()",
            ),
            id="stale with the probe's error",
        ),
        pytest.param(
            120.0, 100.0, 30.0, "403 Forbidden: cannot list",
            Verdict(True, "ok: last word from the API server 20.0s ago"),
            id="a failed probe within the threshold: healthy",
        ),
        pytest.param(
            10.0, 12.0, 2.5, None, Verdict(True, "ok: last word from the API server 0.0s ago"),
            id="a word noted after now's reading: no negative age",
        ),
        pytest.param(
            104.0, 100.0, 2.5, "",
            Verdict(
                False,
                "unhealthy: no watch event and no successful list from the API server for 4.0s"
                " (more than 2.5s)",
            ),
            id="an empty error says nothing",
        ),
    ],
)  # fmt: skip
def test_judge(
    now: float, last_word: float, stale_after: float, error: str | None, expected: Verdict
) -> None:
    assert judge(now, last_word, stale_after, error) == expected


@pytest.mark.parametrize(
    ("error", "reason_ends"),
    [
        pytest.param(
            "line one\n  line two\t end", "last error: line one line two end", id="one line"
        ),
        pytest.param("x" * 1000, "last error: " + "x" * 299 + "…", id="cut"),
    ],
)  # fmt: skip
def test_the_error_in_a_reason_is_one_bounded_line(error: str, reason_ends: str) -> None:
    verdict = judge(1000.0, 0.0, 30.0, error)
    assert verdict.reason.endswith(reason_ends)
    assert "\n" not in verdict.reason


@pytest.mark.parametrize(("stale_after", "every"), [(30.0, 10.0), (6.0, 2.0), (1.0, 1.0 / 3)])
def test_several_probes_fit_in_one_threshold(stale_after: float, every: float) -> None:
    assert health.probe_every(stale_after) == pytest.approx(every)


def test_liveness_goes_stale_and_recovers_with_the_next_word() -> None:
    liveness = Liveness(stale_after=10.0, last_word=0.0)
    assert liveness.verdict(5.0).healthy
    liveness.failed("Unreachable: connection refused")
    assert liveness.verdict(9.0).healthy  # one failure within the threshold is no outage
    stale = liveness.verdict(11.0)
    assert not stale.healthy
    assert stale.reason.endswith("last error: Unreachable: connection refused")

    liveness.heard(12.0)  # a watch event or a successful list
    assert liveness.verdict(12.5) == Verdict(True, "ok: last word from the API server 0.5s ago")
    assert liveness.last_error is None


def test_a_late_note_of_an_earlier_word_does_not_move_it_back() -> None:
    liveness = Liveness(stale_after=10.0, last_word=50.0)
    liveness.heard(40.0)
    assert liveness.last_word == 50.0
