"""generator.operator.kube's paths: every name read from an object is one escaped path segment, so a
history entry id or a name can never reach another object's URL (issue 16). No I/O."""

from __future__ import annotations

import pytest

from generator.operator import kube
from runner.kube import KubeError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("nightly-1", "nightly-1", id="plain"),
        pytest.param("../../api/v1/secrets/x", "..%2F..%2Fapi%2Fv1%2Fsecrets%2Fx", id="path"),
        pytest.param("a?b#c d", "a%3Fb%23c%20d", id="query-and-fragment"),
    ],
)
def test_a_name_is_one_escaped_segment(name: str, expected: str) -> None:
    assert kube.segment(name) == expected


@pytest.mark.parametrize("name", ["", ".", ".."])
def test_names_a_url_would_resolve_are_refused(name: str) -> None:
    with pytest.raises(KubeError):
        kube.segment(name)
