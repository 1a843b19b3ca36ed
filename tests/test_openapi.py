"""schemathesis against the offline server: no 5xx, and every answer as the document says.

The server runs on a free loopback port in this process's background thread, loaded with
the ``ready-to-train`` scenario, whose dataset and export the document's examples name,
so generated requests reach the routes' success paths and not only their 404s.
Generation is derandomized (CI must not be flaky); run ``st run`` against
``pictograph-fake serve`` for a randomized, longer search (see docs/server.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pictograph_testing.api.route_paths import API_PREFIX  # noqa: E402
from pictograph_testing.openapi import openapi_document  # noqa: E402
from pictograph_testing.server import FakeServer  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# A modest budget keeps CI fast; raise it (and drop derandomize) for a deeper local search:
# PICTOGRAPH_FUZZ_EXAMPLES=200 PICTOGRAPH_FUZZ_RANDOM=1 pytest tests/test_openapi.py
EXAMPLES_PER_ROUTE = int(os.environ.get("PICTOGRAPH_FUZZ_EXAMPLES", "12"))
DERANDOMIZE = not os.environ.get("PICTOGRAPH_FUZZ_RANDOM")


@pytest.fixture(scope="module")
def served() -> Iterator[FakeServer]:
    with FakeServer(scenario="ready-to-train", seed=7) as server:
        yield server


# Built at import so pytest (and xdist) see one test per operation; the server's URL is
# given per call, and a test below checks the server serves this very document.
schema = schemathesis.openapi.from_dict(openapi_document())


# Schemathesis examples for every route: run by scripts/test_slow.sh, not scripts/test.sh.
@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_routes_match_the_document(case: Any, served: FakeServer) -> None:
    case.call_and_validate(
        base_url=served.base_url, headers={"X-API-Key": served.api_key}, checks=CHECKS
    )
    # A 500 fails the checks above; this names the exception behind it.
    assert served.fake.server_errors == []


def test_the_document_is_served_with_the_servers_url(served: FakeServer) -> None:
    document = httpx.get(f"{served.base_url}/_fake/openapi.json").json()
    assert document["servers"] == [{"url": served.base_url}]
    assert document == openapi_document(served.base_url)


_UNHASHABLE_TYPE = [
    ("POST", "/datasets/", {"name": "x", "classes": [{"name": "a", "type": {}}]}),
    ("PATCH", "/datasets/road-signs", {"classes": [{"name": "a", "type": []}]}),
    (
        "POST",
        "/annotations/bulk",
        {
            "saves": [
                {
                    "image_id": "e3e70682-c209-4cac-a29f-6fbed82c07cd",
                    "annotations": [{"name": "a", "type": {}}],
                }
            ]
        },
    ),
    ("POST", "/annotations/road-signs/img-00001.jpg", {"annotations": [{"name": "a", "type": []}]}),
]


@pytest.mark.parametrize(("method", "path", "body"), _UNHASHABLE_TYPE)
def test_a_type_that_is_not_a_string_is_refused_not_a_500(
    method: str, path: str, body: dict[str, Any]
) -> None:
    # Found by schemathesis: a dict or list as a class's or an annotation's type was a 500.
    from pictograph_testing import FakePictograph

    fake = FakePictograph(scenario="ready-to-train")
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    ) as http:
        answer = http.request(method, f"{API_PREFIX.rstrip('/')}{path}", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "validation_error"
    assert fake.server_errors == []
