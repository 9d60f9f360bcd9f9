"""runner.token_reviews with a fixed clock: what is remembered and for how long, that garbage
tokens never push out a good one, the rate of reviews of unknown tokens, and the bearer header
read strictly (a non-ASCII token is no token, so it is answered 401, never sent on)."""

from __future__ import annotations

import pytest

from runner.token_reviews import ALLOWED_TTL, REFUSED_TTL, TokenReviews, bearer_token


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_allowed_token_is_remembered_a_minute_and_a_refused_one_briefly() -> None:
    clock = Clock()
    reviews = TokenReviews(clock=clock)
    reviews.remember("good", True)
    reviews.remember("bad", False)
    clock.now = REFUSED_TTL + 0.1
    assert (reviews.remembered("good"), reviews.remembered("bad")) == (True, None)
    clock.now = ALLOWED_TTL + 0.1
    assert reviews.remembered("good") is None


def test_garbage_tokens_never_push_out_an_allowed_one() -> None:
    reviews = TokenReviews(clock=Clock(), size=4)
    reviews.remember("good", True)
    for i in range(100):
        reviews.remember(f"garbage-{i}", False)
    assert reviews.remembered("good") is True
    assert reviews.remembered("garbage-0") is None  # the oldest refusals were dropped
    assert reviews.remembered("garbage-99") is False


def test_unknown_tokens_are_reviewed_at_a_bounded_rate() -> None:
    clock = Clock()
    reviews = TokenReviews(clock=clock, rate=10.0, burst=20.0)
    assert [reviews.may_review() for _ in range(21)] == [True] * 20 + [False]
    assert reviews.retry_after() == 1
    clock.now = 0.5  # five more have come back
    assert [reviews.may_review() for _ in range(6)] == [True] * 5 + [False]


@pytest.mark.parametrize(
    ("header", "token"),
    [
        pytest.param("Bearer abc.def-_~+/=", "abc.def-_~+/=", id="b64token"),
        pytest.param("bearer  abc ", "abc", id="case-and-spaces"),
        pytest.param("Basic abc", None, id="other-scheme"),
        pytest.param("Bearer", None, id="no-token"),
        pytest.param("Bearer tökén", None, id="non-ascii"),
        pytest.param("Bearer a b", None, id="inner-space"),
        pytest.param(None, None, id="no-header"),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
