"""The REST API's authentication decisions, without a cluster: the cross-site refusal (the
browser's Sec-Fetch-Site, else the Origin's scheme, host and port), the JSON-only rule for
writes, the token read from the header, and local mode's loopback-only rule. The token checked
with the apiserver is in tests/integration/test_server_api.py; the header's syntax in
tests/unit/test_token_reviews.py."""

from __future__ import annotations

import pytest

from server.auth import AuthError, AuthMode, authenticate, cross_origin, not_json

HOST = "127.0.0.1:8080"


@pytest.mark.parametrize(
    ("method", "headers", "refused"),
    [
        pytest.param("POST", {"origin": "https://evil.example"}, True, id="other-site"),
        pytest.param("POST", {"origin": "null"}, True, id="opaque-origin"),
        pytest.param("POST", {"origin": f"http://{HOST}"}, False, id="own-origin"),
        pytest.param("POST", {"origin": f"https://{HOST}"}, True, id="own-host-other-scheme"),
        pytest.param("POST", {}, False, id="no-browser"),
        pytest.param("POST", {"sec-fetch-site": "cross-site"}, True, id="cross-site-no-origin"),
        pytest.param("POST", {"sec-fetch-site": "same-site"}, True, id="sibling-site"),
        pytest.param(
            "POST",
            {"sec-fetch-site": "same-origin", "origin": f"https://{HOST}"},
            False,
            id="browser-says-same-origin-behind-a-tls-proxy",
        ),
        pytest.param("POST", {"sec-fetch-site": "none"}, False, id="typed-by-the-user"),
        pytest.param("GET", {"origin": "https://evil.example"}, False, id="reads-pass"),
    ],
)
def test_cross_site_writes_are_refused(method: str, headers: dict[str, str], refused: bool) -> None:
    assert cross_origin(method, {"host": HOST, **headers}, "http") is refused


@pytest.mark.parametrize(
    ("method", "headers", "refused"),
    [
        pytest.param("POST", {"content-type": "application/json"}, False, id="json"),
        pytest.param(
            "POST", {"content-type": "application/json; charset=utf-8"}, False, id="charset"
        ),
        pytest.param(
            "POST", {"content-type": "text/plain", "content-length": "2"}, True, id="text"
        ),
        pytest.param(
            "POST", {"content-type": "application/x-www-form-urlencoded"}, True, id="form"
        ),
        pytest.param("POST", {"content-length": "0"}, False, id="no-body"),
        pytest.param("POST", {"content-length": "5"}, True, id="body-without-type"),
        pytest.param("POST", {"transfer-encoding": "chunked"}, True, id="chunked-without-type"),
        pytest.param("DELETE", {}, False, id="delete-no-body"),
        pytest.param("GET", {"content-type": "text/plain"}, False, id="reads-pass"),
    ],
)
def test_writes_must_be_json(method: str, headers: dict[str, str], refused: bool) -> None:
    assert not_json(method, headers) is refused


def test_a_text_plain_write_is_415_even_in_local_mode() -> None:
    headers = {"host": HOST, "content-type": "text/plain", "content-length": "2"}
    with pytest.raises(AuthError) as caught:
        authenticate(AuthMode.LOCAL, "POST", headers)
    assert caught.value.status == 415


@pytest.mark.parametrize("header", ["Bearer tökén", "Bearer a b", "Bearer\u00a0x"])
def test_a_token_that_is_not_visible_ascii_is_401(header: str) -> None:
    with pytest.raises(AuthError) as caught:
        authenticate(AuthMode.CLIENT, "GET", {"host": HOST, "authorization": header})
    assert caught.value.status == 401


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
