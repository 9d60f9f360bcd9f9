"""The keys of ScheduledRuns waiting for a reconcile, like client-go's workqueue, fair across
namespaces. Pure bookkeeping: the controller's workers (generator/operator/controller.py) take
keys from it and wake on its answers.

- A key waits at most once: adding a waiting key again changes nothing (its latest body wins).
- A key being reconciled is never handed out again until `done`: adding it meanwhile marks it
  to wait again after, so one object never has two reconciles at once and none is lost.
- Keys are handed out in per-namespace round robin: one from each namespace that has any, in
  turn, so a namespace with a thousand waiting keys delays another namespace's one key by at
  most one key of its own, not by a thousand.
- A key may carry the body its watch event brought (already slimmed, generator/operator/slim.py),
  so its reconcile needs no read. The bodies held while waiting have a size budget: past it a
  key waits without one and its reconcile reads the object, so a flood of large objects costs
  reads, not memory.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final

from runner.api import ObjectKey

Body = dict[str, Any]

# Bytes (estimated Python size, generator/operator/slim.py) of bodies held for waiting keys.
BODY_BUDGET: Final = 16 * 1024 * 1024


class WorkQueue:
    def __init__(self, budget: int = BODY_BUDGET) -> None:
        self.budget = budget
        self.waiting: dict[str, deque[ObjectKey]] = {}  # by namespace, oldest first
        self.turn: deque[str] = deque()  # namespaces with waiting keys, the next first
        self.queued: set[ObjectKey] = set()
        self.active: set[ObjectKey] = set()
        self.again: set[ObjectKey] = set()  # added while active: wait again when done
        self.bodies: dict[ObjectKey, tuple[Body, int]] = {}
        self.held = 0  # bytes of `bodies`

    def __len__(self) -> int:
        """Keys waiting (not those being reconciled)."""
        return len(self.queued)

    def add(self, key: ObjectKey, body: Body | None = None, size: int = 0) -> bool:
        """Make `key` wait for a reconcile, with the body its event carried (`size`: its
        estimated bytes) or None (the reconcile reads it; an earlier event's body still waiting
        is as new as any). Returns whether a key became ready to take (wake a worker)."""
        if body is not None:
            self._hold(key, body, size)
        if key in self.queued:
            return False
        if key in self.active:
            self.again.add(key)
            return False
        self._push(key)
        return True

    def take(self) -> tuple[ObjectKey, Body | None] | None:
        """The next key (and its body, if one is held), in namespace round robin; it is active
        until `done`. None when no key waits."""
        if not self.turn:
            return None
        namespace = self.turn.popleft()
        keys = self.waiting[namespace]
        key = keys.popleft()
        if keys:
            self.turn.append(namespace)
        else:
            del self.waiting[namespace]
        self.queued.discard(key)
        self.active.add(key)
        body, size = self.bodies.pop(key, (None, 0))
        self.held -= size
        return key, body

    def done(self, key: ObjectKey) -> bool:
        """The reconcile of `key` ended. Returns whether it waits again (it was added meanwhile)."""
        self.active.discard(key)
        if key in self.again:
            self.again.discard(key)
            self._push(key)
            return True
        return False

    def drop_body(self, key: ObjectKey) -> None:
        """The body held for `key` is stale (its object was deleted): if the key waits, its
        reconcile reads the object instead, and finds it gone or made anew."""
        self._release(key)

    def _push(self, key: ObjectKey) -> None:
        keys = self.waiting.get(key[0])
        if keys is None:
            keys = self.waiting[key[0]] = deque()
            self.turn.append(key[0])
        keys.append(key)
        self.queued.add(key)

    def _hold(self, key: ObjectKey, body: Body, size: int) -> None:
        """Keep `body` for `key` if the budget allows; else keep none (never an older one)."""
        self._release(key)
        if self.held + size <= self.budget:
            self.bodies[key] = (body, size)
            self.held += size

    def _release(self, key: ObjectKey) -> None:
        _, size = self.bodies.pop(key, (None, 0))
        self.held -= size
