"""server.creator: which user a ScheduledRun is written as belonging to (`kagent.dev/created-by`).
The caller's name as the apiserver tells it, and the policy that refuses forged names, are the
cluster tests' (tests/integration/test_created_by.py)."""

from __future__ import annotations

from typing import Any

import pytest

from runner import api
from server.creator import creator_of, owned_by

KEY = api.ANNOTATION_CREATED_BY


def obj(annotations: Any) -> dict[str, Any]:
    return {"metadata": {"name": "nightly", "annotations": annotations}, "spec": {"prompt": "p"}}


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param(None, {KEY: "alice"}, id="none-yet"),
        pytest.param({"team": "a"}, {"team": "a", KEY: "alice"}, id="others-kept"),
        pytest.param({KEY: "mallory"}, {KEY: "alice"}, id="a-claim-is-replaced"),
        pytest.param("not-a-map", {KEY: "alice"}, id="garbage-replaced"),
    ],
)
def test_owned_by_names_the_user_and_keeps_other_annotations(
    annotations: Any, expected: dict[str, str]
) -> None:
    before = obj(annotations)
    after = owned_by(before, "alice")
    assert after["metadata"]["annotations"] == expected
    assert after["spec"] == before["spec"]
    assert before["metadata"]["annotations"] == annotations  # the input is not changed


def test_no_user_names_no_one() -> None:
    assert owned_by(obj(None), "") == obj(None)


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param({KEY: "alice"}, "alice", id="named"),
        pytest.param({}, "", id="unnamed"),
        pytest.param(None, "", id="no-annotations"),
        pytest.param({KEY: 7}, "", id="not-text"),
    ],
)
def test_creator_of(annotations: Any, expected: str) -> None:
    assert creator_of(obj(annotations)) == expected
