"""generator.operator.workqueue: de-duplicated keys, one reconcile per key at a time, namespace
round robin, and the budget of the bodies held for waiting keys."""

from __future__ import annotations

from generator.operator.workqueue import WorkQueue
from runner.api import ObjectKey


def drain(queue: WorkQueue) -> list[ObjectKey]:
    """Take and finish every waiting key, in order."""
    taken = []
    while (item := queue.take()) is not None:
        taken.append(item[0])
        queue.done(item[0])
    return taken


def test_a_key_added_twice_waits_once_and_its_latest_body_wins() -> None:
    queue = WorkQueue()
    assert queue.add(("a", "x"), {"v": 1}, 10) is True
    assert queue.add(("a", "x"), {"v": 2}, 10) is False
    assert len(queue) == 1
    assert queue.take() == (("a", "x"), {"v": 2})
    assert queue.held == 0


def test_a_named_look_keeps_the_body_an_event_left_waiting() -> None:
    queue = WorkQueue()
    queue.add(("a", "x"), {"v": 1}, 10)
    queue.add(("a", "x"))  # the clock, a target or a Job: "look at it"
    assert queue.take() == (("a", "x"), {"v": 1})


def test_a_key_being_reconciled_is_not_handed_out_again_until_done() -> None:
    queue = WorkQueue()
    queue.add(("a", "x"), {"v": 1}, 10)
    assert queue.take() == (("a", "x"), {"v": 1})
    assert queue.add(("a", "x"), {"v": 2}, 10) is False  # no worker may take it now
    assert queue.take() is None
    assert queue.done(("a", "x")) is True  # it waits again, with the newer body
    assert queue.take() == (("a", "x"), {"v": 2})
    assert queue.done(("a", "x")) is False
    assert queue.take() is None


def test_namespaces_take_turns_so_a_flood_delays_another_namespace_by_one_key() -> None:
    queue = WorkQueue()
    for i in range(1000):
        queue.add(("flood", f"sr-{i}"))
    first = queue.take()
    assert first is not None
    queue.add(("quiet", "one"))
    following = [queue.take() for _ in range(2)]
    assert [t[0] for t in following if t] == [("flood", "sr-1"), ("quiet", "one")]


def test_round_robin_order_over_three_namespaces() -> None:
    queue = WorkQueue()
    for key in [("a", "1"), ("a", "2"), ("a", "3"), ("b", "1"), ("c", "1"), ("c", "2")]:
        queue.add(key)
    assert drain(queue) == [("a", "1"), ("b", "1"), ("c", "1"), ("a", "2"), ("c", "2"), ("a", "3")]


def test_past_the_budget_a_key_waits_without_a_body_and_never_with_an_older_one() -> None:
    queue = WorkQueue(budget=100)
    queue.add(("a", "x"), {"v": 1}, 60)
    queue.add(("a", "y"), {"v": 1}, 60)  # over the budget: its reconcile reads it
    assert queue.held == 60
    queue.add(("a", "x"), {"v": 2}, 200)  # newer and too large: the older body goes too
    assert queue.held == 0
    assert queue.take() == (("a", "x"), None)
    assert queue.take() == (("a", "y"), None)


def test_a_deleted_objects_body_is_dropped_and_its_waiting_key_reads() -> None:
    queue = WorkQueue()
    queue.add(("a", "x"), {"v": 1}, 10)
    queue.drop_body(("a", "x"))
    assert queue.held == 0
    assert queue.take() == (("a", "x"), None)
