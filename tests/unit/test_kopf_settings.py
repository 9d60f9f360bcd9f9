"""kopf's settings as the operator sets them, and kopf's watch streams decoded with orjson."""

from __future__ import annotations

import inspect
import json

import kopf
from kopf._cogs.clients import api as kopf_api

from generator.operator import kopf_settings
from generator.operator.kube import LIST_PAGE


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
