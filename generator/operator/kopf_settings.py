"""kopf settings for this operator, each with the reason it is what it is.

The operator is level-based: it has only event and activity handlers, and keeps its own
clock (generator/operator/requeue.py). Most settings below exist to make sure kopf itself writes
nothing to the cluster: an idle operator must make no API writes at all."""

from __future__ import annotations

import types
from typing import Any, Final

import kopf
import orjson
from kopf._cogs.clients import api as kopf_api

from generator.operator.kube import LIST_PAGE
from runner import api

PREFIX: Final = "scheduledrun.kagent.dev"
# The kinds (batch/v1) kopf watches for the operator's own objects only.
OWNED_KINDS: Final = ("cronjobs", "jobs")


class NoDiffBase(kopf.AnnotationsDiffBaseStorage):
    """A diff base that is never built, read or written: the operator is level-based, it has no
    handler that reacts to a diff (on.create/update/field), so there is nothing to compare."""

    def build(self, *, body: Any, extra_fields: Any = None) -> Any:
        return {}

    def fetch(self, *, body: Any) -> Any:
        return None

    def store(self, *, body: Any, patch: Any, essence: Any) -> None:
        return None


# What kopf's watch streams decode each event line with, in place of the standard library's
# `json`: the largest single cost per ScheduledRun was decoding (a third of it these streams, see
# bench/operator_bench.py), and orjson does it several times faster. kopf has no setting for its
# decoder, so its module's name `json` is pointed here; tests/unit/test_kopf_settings.py fails if a
# kopf release stops decoding its streams through that name.
STREAM_JSON: Final = types.SimpleNamespace(loads=orjson.loads)


def configure(settings: Any) -> None:
    """Tune a `kopf.OperatorSettings` in place (called from the startup handler, before kopf
    starts watching)."""
    kopf_api.json = STREAM_JSON  # type: ignore[attr-defined,assignment]
    # No handler is a create/update/delete/resume/timer/daemon handler, so kopf has no progress
    # to store: the storage only names our prefix should one ever be added, instead of kopf's
    # default zalando.org annotations. Annotations, not status: the runner owns much of the
    # status and must never race a framework for it.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    # Nor a diff base: kopf still builds one (a deep copy of the body) on every event, only to
    # find no handler that wants it; NoDiffBase skips that copy, the largest per-event cost.
    settings.persistence.diffbase_storage = NoDiffBase(prefix=PREFIX)

    # Events are posted by generator/operator/kube.py on Accepted transitions only. kopf's own
    # posting (kopf.event and, if enabled, log lines) would add a write per handler call.
    settings.posting.enabled = False

    # One replica (the chart runs one, with a Recreate strategy): peering would renew a
    # KopfPeering object every minute, an API write while idle, and needs a CRD of its own.
    settings.peering.standalone = True

    # Long watches: each reconnect is a request and, if the resourceVersion expired, a full
    # re-list. The apiserver closes watches after its own --min-request-timeout (randomised up to
    # 2x, 30-60 min by default); asking for 10 min keeps streams fresh behind load balancers that
    # drop idle connections, and the client timeout gives the server a minute to close first.
    settings.watching.server_timeout = 600
    settings.watching.client_timeout = 660
    settings.watching.connect_timeout = 10
    # List in small pages: a listing holds a whole page at once, and a tenant can make each
    # ScheduledRun as large as etcd admits (issue 22: 300 of them in one unpaged response took
    # the operator past its memory limit at every start). The size and its reason: kube.LIST_PAGE.
    settings.watching.chunk_size = LIST_PAGE
    # Only the operator's CronJobs and Jobs, filtered by the API server: kopf filters handlers'
    # labels after the fact, so without this every CronJob and Job of the cluster (other teams'
    # CI, batch systems) would be sent, decoded and remembered by kopf (a per-object memory that
    # lives as long as the object), and each of their status changes processed. A label removed
    # from one of the operator's CronJobs comes as its deletion (the API server's watch says so
    # when an object stops matching), and its ScheduledRun puts it back.
    for plural in OWNED_KINDS:
        settings.watching.label_selectors["batch", "v1", plural] = api.LABEL_SCHEDULEDRUN

    # At most 32 per-object workers at once. Each handler now only keeps what the reconcile needs
    # and queues the key (controller.py's work queue does the API calls), so a worker holds its
    # event's whole body for a moment only; the limit still keeps a burst of 1000 creations from
    # starting 1000 coroutine stacks at once, a peak that stays in the process as fragmented heap
    # (measured before the work queue: 41 KB of RSS per ScheduledRun unlimited, 15 KB limited).
    settings.queueing.worker_limit = 32
    # A worker exits 0.1 s after its object's last event instead of 5 s: with a worker limit, an
    # idle worker holds a slot another object is waiting for. A later event (our own status
    # write echoing back) just starts a new worker, which is cheap.
    settings.queueing.idle_timeout = 0.1

    # kopf's own API calls (listing, watching) give up after 60 s instead of 5 minutes, and retry
    # transient errors with short back-offs: a restarting apiserver is survived quickly.
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.networking.error_backoffs = (1, 1, 2, 3, 5, 8, 13, 21)
