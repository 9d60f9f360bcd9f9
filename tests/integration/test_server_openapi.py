"""A property-based run of the live REST API from its own OpenAPI document (schemathesis).

Requests are generated from `/api/openapi.json` (valid ones, and ones that break the document on
purpose) and sent to `scheduledrun serve` on the real control plane, as a user who may edit
ScheduledRuns everywhere; half of the generated names are swapped for a real ScheduledRun and
namespace, so requests reach existing objects as well as missing ones. Every answer must be
what the document says: no 5xx, a documented status code and content type, a body matching
its schema, the documented headers. The routes' meaning is pinned in test_server_api.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane
from devcluster.server import ServerProcess
from tests.integration.test_server_api import EDITOR_RULES, scheduledrun

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = 400  # across all twelve operations; about a minute on a busy 2-core machine


@pytest.fixture(scope="module")
def server(control_plane: ControlPlane) -> Iterator[ServerProcess]:
    process = ServerProcess(control_plane).start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


def test_every_answer_matches_the_document(
    control_plane: ControlPlane, server: ServerProcess, namespace: str
) -> None:
    account = f"fuzz-{uuid.uuid4().hex[:6]}"
    token = namespace_user(control_plane, namespace, account, EDITOR_RULES, cluster_wide=True)
    auth = {"Authorization": f"Bearer {token}"}

    def ensure_probe() -> None:
        """The real object half the requests aim at (a generated DELETE may remove it)."""
        with httpx.Client(base_url=f"{server.url}/api", headers=auth, timeout=30) as client:
            found = client.get(f"/scheduledruns/{namespace}/probe")
            if found.status_code == 404:
                client.post("/scheduledruns", json=scheduledrun(namespace, "probe"))

    control_plane.wait_for(
        "the fuzzing user's role",
        lambda: httpx.get(f"{server.url}/api/scheduledruns", headers=auth).status_code == 200,
        timeout=60,
    )
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    seen: dict[str, set[int]] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, real=st.booleans())
    def run(case: Any, real: bool) -> None:
        if real and case.path_parameters and "name" in case.path_parameters:
            ensure_probe()
            case.path_parameters = {"namespace": namespace, "name": "probe"}
        response = case.call_and_validate(base_url=server.url, headers=auth, checks=CHECKS)
        seen.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)

    run()
    assert len(seen) == 13, seen  # every operation was exercised (12 + /api/access)
    successes = {op for op, codes in seen.items() if codes & {200, 201}}
    assert len(successes) >= 6, seen
