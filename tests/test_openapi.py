"""schemathesis against the offline server: no 5xx, and every answer as the document says.

The server runs on a free loopback port in this process's background thread, loaded with
the ``ready-to-train`` scenario, whose dataset and export the document's examples name,
so generated requests reach the routes' success paths and not only their 404s.
Generation is derandomized (CI must not be flaky); run ``st run`` against
``pictograph-fake serve`` for a randomized, longer search (see docs/server.md).
"""

from __future__ import annotations

import os
import re
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
from tests.image_files import write_image  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pictograph_testing import FakePictograph

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
@schema.parametrize()  # type: ignore[untyped-decorator]  # schemathesis's is untyped
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


def _template(template: str, operation: dict[str, Any]) -> re.Pattern[str]:
    """A document path as a regular expression: each parameter by its own pattern."""
    patterns = {
        p["name"]: p["schema"].get("pattern", "^[0-9a-fA-F-]{36}$")[1:-1]
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }
    pieces, last = [], 0
    for found in re.finditer(r"\{([a-z_]+)\}", template):
        pieces += [re.escape(template[last : found.start()]), f"(?:{patterns[found[1]]})"]
        last = found.end()
    return re.compile("".join([*pieces, re.escape(template[last:])]))


def test_the_path_patterns_take_every_path_the_sdk_sends(
    fake: FakePictograph, tmp_path: Path
) -> None:
    """An image in a directory (a multi-segment ``{path}``) and a name starting with a
    dot are served: the document's patterns take them. Only `.` and `..`, which clients
    remove before a request leaves, are not path segments."""
    with fake.client(max_retries=0) as client:
        client.datasets.create(".hidden", annotation_types=["bbox"])
        client.datasets.get(".hidden")
        image = write_image(tmp_path / "img-00001.jpg")
        client.images.upload(".hidden", image, directory_path="/night")
        client.annotations.get(".hidden", "img-00001.jpg", directory_path="/night")
    document = openapi_document()
    served = [
        (method.upper(), _template(path, operation))
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    answered = [c for c in fake.calls if c.path.startswith(API_PREFIX)]
    assert any(c.path.endswith("/.hidden/night/img-00001.jpg") for c in answered)
    for call in answered:
        assert call.status < 400, (call.method, call.path)
        fits = [p for m, p in served if m == call.method and p.fullmatch(call.path)]
        assert fits, f"{call.method} {call.path} fits no path of the document"
    segment = document["paths"][f"{API_PREFIX}datasets/{{dataset}}"]["get"]["parameters"][0]
    for dots in (".", ".."):
        assert not re.fullmatch(segment["schema"]["pattern"], dots)
