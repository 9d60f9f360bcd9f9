"""kopf's settings as the operator sets them, and kopf's watch streams decoded with orjson."""

from __future__ import annotations

import inspect
import json

import kopf
import pytest
from kopf._cogs.clients import api as kopf_api
from kopf._cogs.structs.references import Resource

from generator.operator import kopf_settings
from generator.operator.kube import LIST_PAGE
from runner import api


def test_configure_makes_kopf_write_nothing_and_list_in_pages() -> None:
    settings = kopf.OperatorSettings()
    kopf_settings.configure(settings)
    assert settings.posting.enabled is False
    assert settings.peering.standalone is True
    assert settings.watching.chunk_size == LIST_PAGE
    assert isinstance(settings.persistence.diffbase_storage, kopf_settings.NoDiffBase)


def test_kopf_streams_decode_each_line_through_the_name_configure_replaces() -> None:
    # The replacement only works while kopf's stream decodes through its module's `json.loads`;
    # a kopf release that changes that must fail here, not quietly go back to the slow decoder.
    assert "json.loads(" in inspect.getsource(kopf_api.stream)
    kopf_settings.configure(kopf.OperatorSettings())
    assert kopf_api.json is kopf_settings.STREAM_JSON  # type: ignore[attr-defined,comparison-overlap]


def test_the_stream_decoder_reads_a_watch_line_as_the_standard_library_does() -> None:
    event = {
        "type": "MODIFIED",
        "object": {
            "metadata": {"name": "nightly", "resourceVersion": "9223372036854775807"},
            "spec": {"prompt": 'Résumé \u2028 of "today" \\ 🙂', "maxRuns": 2**62, "ratio": 0.1},
        },
    }
    line = json.dumps(event).encode("utf-8").decode("utf-8")
    assert kopf_settings.STREAM_JSON.loads(line) == json.loads(line)


def batch(plural: str) -> Resource:
    kind = {"cronjobs": "CronJob", "jobs": "Job"}[plural]
    return Resource("batch", "v1", plural, kind=kind, namespaced=True)


@pytest.mark.parametrize("plural", kopf_settings.OWNED_KINDS)
def test_kopf_asks_the_api_server_for_the_operators_own_cronjobs_and_jobs_only(plural: str) -> None:
    settings = kopf.OperatorSettings()
    kopf_settings.configure(settings)
    assert settings.watching.label_selectors.collect(batch(plural)) == [api.LABEL_SCHEDULEDRUN]


def test_no_other_kind_is_filtered_by_label() -> None:
    """ScheduledRuns, Agents and SandboxAgents carry no label of the operator's: all are wanted."""
    settings = kopf.OperatorSettings()
    kopf_settings.configure(settings)
    others = [
        Resource(api.GROUP, api.VERSION, api.PLURAL, namespaced=True),
        *(
            Resource(api.TARGET_GROUP, api.TARGET_VERSION, t.plural, namespaced=True)
            for t in api.TARGET_KINDS.values()
        ),
    ]
    assert all(settings.watching.label_selectors.collect(r) == [] for r in others)
