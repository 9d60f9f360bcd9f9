"""The REST API's authentication decisions, without a cluster: the bearer token read from the
header, the cross-site refusal, and local mode's loopback-only rule. The token checked with
the apiserver is in tests/integration/test_server_api.py."""

from __future__ import annotations

import pytest

from server.auth import AuthError, AuthMode, authenticate, bearer_token, cross_origin


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None)],
)
def test_bearer_token(header: str, token: str | None) -> None:
    assert bearer_token({"authorization": header}) == token


@pytest.mark.parametrize(
    ("method", "origin", "refused"),
    [
        ("POST", "https://evil.example", True),
        ("POST", "null", True),
        ("POST", "http://127.0.0.1:8080", False),
        ("POST", None, False),
        ("GET", "https://evil.example", False),
    ],
)
def test_cross_site_writes_are_refused(method: str, origin: str | None, refused: bool) -> None:
    assert cross_origin(method, origin, "127.0.0.1:8080") is refused


def test_client_mode_without_token_is_401() -> None:
    with pytest.raises(AuthError) as caught:
        authenticate(AuthMode.CLIENT, "GET", {"host": "api.example"})
    assert caught.value.status == 401


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost", "[::1]:80"])
def test_local_mode_answers_loopback_names(host: str) -> None:
    assert authenticate(AuthMode.LOCAL, "GET", {"host": host}) is None


def test_local_mode_refuses_other_names() -> None:
    """A page on attacker.example that rebinds its name to 127.0.0.1 still sends its own Host."""
    with pytest.raises(AuthError) as caught:
        authenticate(AuthMode.LOCAL, "GET", {"host": "attacker.example:8080"})
    assert caught.value.status == 403
