"""runner.identity: the headers that say who the runner is (the ScheduledRun's creator, else the
configured user), and the token file's handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import api
from runner.identity import Identity, IdentityError, for_scheduledrun


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


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param({api.ANNOTATION_CREATED_BY: "alice@example.com"}, "alice@example.com",
                     id="the-creator"),
        pytest.param({}, "admin@kagent.dev", id="no-creator-the-default"),
        pytest.param({api.ANNOTATION_CREATED_BY: "  "}, "admin@kagent.dev", id="blank-the-default"),
        pytest.param(None, "admin@kagent.dev", id="no-annotations"),
    ],
)  # fmt: skip
def test_a_run_is_sent_as_its_creator(annotations: dict[str, str] | None, expected: str) -> None:
    sr = {"metadata": {"name": "nightly", "annotations": annotations}}
    identity = for_scheduledrun(Identity("admin@kagent.dev", None), sr)
    assert identity.headers()[api.USER_ID_HEADER] == expected
