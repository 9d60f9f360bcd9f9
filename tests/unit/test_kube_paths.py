"""The API paths every client builds (runner/kube.py): every name read from an object is one
escaped path segment, so a history entry id or a name can never reach another object's URL
(issue 16). No I/O."""

from __future__ import annotations

import pytest

from runner import kube
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


@pytest.mark.parametrize(
    ("namespace", "name", "expected"),
    [
        pytest.param(
            "team-a",
            "nightly",
            "/apis/kagent.dev/v1alpha2/namespaces/team-a/scheduledruns/nightly",
            id="plain",
        ),
        pytest.param(
            "team-a",
            "../../../api/v1/secrets",
            "/apis/kagent.dev/v1alpha2/namespaces/team-a/scheduledruns/..%2F..%2F..%2Fapi%2Fv1%2Fsecrets",
            id="name-escaped",
        ),
        pytest.param(
            "a/b",
            "x",
            "/apis/kagent.dev/v1alpha2/namespaces/a%2Fb/scheduledruns/x",
            id="namespace-escaped",
        ),
    ],
)
def test_a_scheduledrun_path_escapes_both_names(namespace: str, name: str, expected: str) -> None:
    assert kube.scheduledrun_path(namespace, name) == expected


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [
        pytest.param(
            "team-a", "/apis/kagent.dev/v1alpha2/namespaces/team-a/scheduledruns", id="ns"
        ),
        pytest.param(None, "/apis/kagent.dev/v1alpha2/scheduledruns", id="all"),
        pytest.param("a?b", "/apis/kagent.dev/v1alpha2/namespaces/a%3Fb/scheduledruns", id="esc"),
    ],
)
def test_the_scheduledruns_path_of_one_namespace_or_all(
    namespace: str | None, expected: str
) -> None:
    assert kube.scheduledruns_path(namespace) == expected


def test_a_scheduledrun_without_a_namespace_has_no_path() -> None:
    with pytest.raises(KubeError):
        kube.scheduledrun_path("", "nightly")
