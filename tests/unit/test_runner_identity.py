"""runner.identity: the headers that say who the runner is, and the token file's handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import api
from runner.identity import Identity, IdentityError


def test_default_identity_is_kagents_default_user_without_a_token() -> None:
    assert Identity().headers() == {api.USER_ID_HEADER: "admin@kagent.dev"}
    assert Identity().authenticated


def test_no_user_and_no_token_sends_nothing_and_is_not_authenticated() -> None:
    assert Identity(user_id="").headers() == {}
    assert not Identity(user_id="").authenticated


def test_token_is_read_on_every_request(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("first\n")
    identity = Identity(user_id="ops@example.com", token_file=str(token))
    assert identity.headers() == {
        api.USER_ID_HEADER: "ops@example.com",
        "Authorization": "Bearer first",
    }
    token.write_text("rotated")  # the kubelet renews a projected token in place
    assert identity.headers()["Authorization"] == "Bearer rotated"


@pytest.mark.parametrize("content", [None, ""], ids=["missing", "empty"])
def test_unusable_token_file_is_named_never_shown(tmp_path: Path, content: str | None) -> None:
    token = tmp_path / "token"
    if content is not None:
        token.write_text(content)
    with pytest.raises(IdentityError, match=str(token)):
        Identity(token_file=str(token)).headers()
