"""The route table against the document, the SDK and the docs, in both directions.

Every endpoint is declared once (``pictograph_testing.api.table``); dispatch, checks, the
OpenAPI document and the fidelity page are derived from it. These tests make sure the
derivations agree: what is documented is served and what is served is documented, every
documented bound and enumeration is enforced, every public SDK method is accounted for,
and the fidelity page in ``docs/`` is the one the table generates.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from pictograph_testing import FakePictograph
from pictograph_testing.api.dialects import format_version
from pictograph_testing.api.resources import ENDPOINTS, ROUTER
from pictograph_testing.api.route_paths import API_PREFIX, API_ROOT
from pictograph_testing.api.table import ALL_RELEASES
from pictograph_testing.fidelity import fidelity_page, sdk_methods, verdicts
from pictograph_testing.openapi import document_path, openapi_document, openapi_path

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pictograph_testing.api.dialects import Span
    from pictograph_testing.api.table import Endpoint

DOCUMENT = openapi_document()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    if path.startswith(API_ROOT)
    for method, operation in item.items()
]
SAMPLE_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    fake = FakePictograph(scenario="ready-to-train", seed=3)
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    ) as client:
        client.fake = fake  # type: ignore[attr-defined]
        yield client


def _concrete(path: str, operation: dict[str, Any]) -> str:
    for param in operation["parameters"]:
        if param["in"] == "path":
            value = SAMPLE_UUID if param["schema"].get("format") == "uuid" else "x"
            path = path.replace("{" + param["name"] + "}", value)
    return path


def _no_route(answer: httpx.Response) -> bool:
    """A 404 for the route itself: not served by the fake, or not for this release."""
    if answer.status_code != 404:
        return False
    error = answer.json()["error"]
    return error["code"] == "not_implemented_by_fake" or "No route" in error["message"]


def _route_key(path: str) -> str:
    """What the router matches: below the developer prefix, or a route written in full."""
    return path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path


# ── served and documented: both directions ──


def test_every_endpoint_is_in_the_document() -> None:
    for endpoint in ENDPOINTS:
        item = DOCUMENT["paths"].get(openapi_path(endpoint), {})
        assert endpoint.method.lower() in item, (endpoint.method, endpoint.path)
    aliases = sum(len(endpoint.aliases) for endpoint in ENDPOINTS)
    assert len(OPERATIONS) == len(ENDPOINTS) + aliases


def _endpoint_of(method: str, path: str) -> tuple[Endpoint, Span]:
    """The endpoint a documented operation reaches, and the releases that call it there."""
    for endpoint in ENDPOINTS:
        if endpoint.method != method:
            continue
        if openapi_path(endpoint) == path:
            return endpoint, endpoint.span
        for alias, span in endpoint.aliases:
            if document_path(alias) == path:
                return endpoint, span
    raise LookupError(f"{method} {path}")


def test_every_alias_is_a_deprecated_operation_naming_its_route() -> None:
    for endpoint in ENDPOINTS:
        for alias, span in endpoint.aliases:
            operation = DOCUMENT["paths"][document_path(alias)][endpoint.method.lower()]
            assert operation["deprecated"] is True
            assert operation["x-alias-of"] == f"{endpoint.method} {openapi_path(endpoint)}"
            assert operation["x-sdk-releases"]["since"] == format_version(span.since)
            assert str(span) in operation["summary"]
    today = DOCUMENT["paths"][f"{API_PREFIX}training/{{run}}"]["get"]
    assert "deprecated" not in today
    assert "x-sdk-releases" not in today  # every release calls it
    by_name = DOCUMENT["paths"][f"{API_PREFIX}training/by-name/{{run}}"]["get"]
    assert by_name["x-sdk-releases"] == {"since": "1.61.0", "until": "1.69.44"}
    by_id = DOCUMENT["paths"][f"{API_PREFIX}annotations/{{image}}"]["get"]
    # Every release before 1.69.44 reads one image's annotations by the image's id.
    assert by_id["x-sdk-releases"] == {"since": "1.0.0", "until": "1.69.44"}
    operation_ids = [op["operationId"] for _, _, op in OPERATIONS]
    assert len(operation_ids) == len(set(operation_ids))


def test_an_alias_is_not_served_to_the_releases_after_it(http: httpx.Client) -> None:
    answer = http.get(f"{API_PREFIX}training/by-name/r1")
    assert _no_route(answer)
    old = http.get(
        f"{API_PREFIX}training/by-name/r1", headers={"User-Agent": "pictograph-python/1.69.43"}
    )
    assert old.status_code == 404
    assert not _no_route(old)  # the route's own 404: no run called r1


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_every_documented_route_reaches_its_handler(
    http: httpx.Client, method: str, path: str, operation: dict[str, Any]
) -> None:
    _, span = _endpoint_of(method, path)
    headers = {}
    if span != ALL_RELEASES:  # a route only some releases call: ask as the first
        headers["User-Agent"] = f"pictograph-python/{format_version(span.since)}"
    answer = http.request(method, _concrete(path, operation), headers=headers)
    assert answer.status_code < 500, answer.text
    assert not _no_route(answer), (method, path)
    assert http.fake.server_errors == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_nothing_past_a_documented_route_is_served(
    http: httpx.Client, method: str, path: str, operation: dict[str, Any]
) -> None:
    concrete = _concrete(path, operation)
    if "{path}" in path or path.endswith("/"):
        return  # a multi-segment path takes more segments; a collection takes its ids
    for neighbour in (concrete + "/extra", concrete + "-extra"):
        answer = http.request(method, neighbour)
        served = [e for e, _ in ROUTER.candidates(method, _route_key(neighbour))]
        if served:
            continue  # another documented route (its own test covers it)
        assert _no_route(answer), (method, neighbour, answer.text)


def test_a_method_a_route_does_not_take_is_not_served(http: httpx.Client) -> None:
    answer = http.request("PUT", f"{API_PREFIX}training/")
    assert _no_route(answer)
    answer = http.put(f"{API_PREFIX}training")
    assert _no_route(answer)


# ── every documented constraint is enforced ──


def _valid(schema: dict[str, Any], name: str) -> Any:
    schema = _plain(schema)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "uuid":
            return SAMPLE_UUID
        return "a" * max(1, schema.get("minLength", 1))
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return False
    if kind == "array":
        return [_valid(schema.get("items", {}), name) for _ in range(schema.get("minItems", 0))]
    # An object gets its required fields (a SAM3 prompt's box needs x, y, w and h).
    properties = schema.get("properties", {})
    return {key: _valid(properties[key], key) for key in schema.get("required", ())}


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without its ``null`` alternative."""
    for alternative in schema.get("anyOf", ()):
        if alternative.get("type") != "null":
            return dict(alternative)
    return schema


def _violations(schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Values that break each constraint the schema documents, with the constraint."""
    schema = _plain(schema)
    if "enum" in schema:
        yield "enum", "not-" + "-".join(map(str, schema["enum"]))[:40]
    if "minimum" in schema:
        yield "minimum", schema["minimum"] - 1
    if "maximum" in schema:
        yield "maximum", schema["maximum"] + 1
    if "minLength" in schema:
        yield "minLength", "a" * (schema["minLength"] - 1)
    if "maxLength" in schema:
        yield "maxLength", "a" * (schema["maxLength"] + 1)
    if schema.get("pattern") == r"\S":
        yield "pattern", "   "
    if schema.get("format") == "uuid":
        yield "format", "not-a-uuid"
    if "minItems" in schema:
        yield "minItems", []
    if "maxItems" in schema:
        item = _valid(schema.get("items", {}), "item")
        yield "maxItems", [item] * (schema["maxItems"] + 1)


def _constraint_cases() -> Iterator[Any]:
    for method, path, operation in OPERATIONS:
        for param in operation["parameters"]:
            if param["in"] != "query":
                continue
            for rule, value in _violations(param["schema"]):
                yield pytest.param(
                    method,
                    path,
                    operation,
                    ("query", param["name"]),
                    value,
                    id=f"{method} {path} ?{param['name']} {rule}",
                )
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        for name, field in body["schema"].get("properties", {}).items():
            for rule, value in _violations(field):
                yield pytest.param(
                    method,
                    path,
                    operation,
                    ("body", name),
                    value,
                    id=f"{method} {path} {name} {rule}",
                )
            for inner, spec in _plain(field).get("properties", {}).items():
                for rule, value in _violations(spec):
                    yield pytest.param(
                        method,
                        path,
                        operation,
                        ("body", name, inner),
                        value,
                        id=f"{method} {path} {name}.{inner} {rule}",
                    )


def _base_body(operation: dict[str, Any]) -> dict[str, Any]:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return {
        name: _valid(field, name)
        for name, field in schema.get("properties", {}).items()
        if name in schema.get("required", ())
    }


@pytest.mark.parametrize(
    ("method", "path", "operation", "where", "value"), list(_constraint_cases())
)
def test_every_documented_constraint_is_enforced(
    http: httpx.Client,
    method: str,
    path: str,
    operation: dict[str, Any],
    where: tuple[str, ...],
    value: Any,
) -> None:
    concrete = _concrete(path, operation).replace("/x", "/road-signs", 1)
    if where[0] == "query":
        params = {
            p["name"]: str(_valid(p["schema"], p["name"]))
            for p in operation["parameters"]
            if p["in"] == "query" and p["required"]
        }
        params[where[1]] = str(value).lower()
        answer = http.request(method, concrete, params=params)
    else:
        body = _base_body(operation)
        if len(where) == 2:
            body[where[1]] = value
        else:
            body[where[1]] = {**body.get(where[1], {}), where[2]: value}
        answer = http.request(method, concrete, json=body)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert http.fake.server_errors == []  # type: ignore[attr-defined]
    if answer.status_code == 422:
        errors = answer.json()["error"]["details"].get("errors", [])
        # The refusal names the field that broke the rule (or the body, for a no-op).
        assert any(tuple(e["loc"][: len(where)]) == where for e in errors), (where, errors)


def test_the_drift_the_table_removed_stays_removed() -> None:
    """Each of these once differed between the document and what the fake did."""
    run = DOCUMENT["paths"][f"{API_PREFIX}training/"]["post"]
    body = run["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "auto" in _plain(body["gpu_type"])["enum"]
    from pictograph_testing.world.training import CONFIG_LIMITS

    assert _plain(body["config"])["properties"]["epochs"]["maximum"] == CONFIG_LIMITS["epochs"][1]
    images = DOCUMENT["paths"][f"{API_PREFIX}images/"]["get"]
    assert "directory_path" in {p["name"] for p in images["parameters"]}
    assert f"{API_PREFIX}annotations/{{dataset}}/{{path}}" in DOCUMENT["paths"]
    get = {v.method: v for v in verdicts()}["images.get"]
    assert "`GET /images/`" in get.routes


def test_epochs_at_the_documented_maximum_train_and_past_it_are_refused() -> None:
    from pictograph_testing.world.training import CONFIG_LIMITS

    high = CONFIG_LIMITS["epochs"][1]
    with FakePictograph(scenario="ready-to-train", profile="current") as fake:
        client = fake.client()
        ok = client.training.quote(
            "road-signs", "road-signs-v1", pipeline_type="yolox", config={"epochs": high}
        )
        assert ok.epochs == high
        import pictograph

        with pytest.raises(pictograph.ValidationError):
            client.training.quote(
                "road-signs", "road-signs-v1", pipeline_type="yolox", config={"epochs": high + 1}
            )


# ── the SDK's surface ──


def test_every_public_sdk_method_is_served_client_side_or_listed() -> None:
    # `verdicts` raises when a method of the sync or async client is in none of the three
    # places, or in two.
    counted = {v.method for v in verdicts()}
    methods = {f"{r}.{m}" for r, names in sdk_methods().items() for m in names}
    assert counted == methods


def test_every_sdk_method_an_endpoint_names_exists() -> None:
    methods = {f"{r}.{m}" for r, names in sdk_methods().items() for m in names}
    for endpoint in ENDPOINTS:
        assert set(endpoint.sdk) <= methods, (endpoint.path, set(endpoint.sdk) - methods)


def test_the_fidelity_page_is_the_generated_one() -> None:
    page = Path(__file__).resolve().parent.parent / "docs" / "fidelity.md"
    assert page.read_text(encoding="utf-8") == fidelity_page(), (
        "docs/fidelity.md is stale: python -m pictograph_testing.fidelity > docs/fidelity.md"
    )


# ── routing details ──


def test_an_image_named_like_a_route_suffix_is_served_as_an_image(
    http: httpx.Client, tmp_path: Path
) -> None:
    from tests.image_files import write_image

    picture = write_image(tmp_path / "picture.png")
    with http.fake:  # type: ignore[attr-defined]
        client = http.fake.client()  # type: ignore[attr-defined]
        client.images.upload(
            "road-signs",
            picture,
            filename="metadata",
            directory_path="/a",
            content_type="image/png",
        )
    answer = http.get(f"{API_PREFIX}images/road-signs/a/metadata")
    assert answer.status_code == 200
    assert not answer.headers["content-type"].startswith("application/json")


def test_an_encoded_slash_stays_inside_its_segment(http: httpx.Client) -> None:
    answer = http.get(f"{API_PREFIX}training/a%2Fb")
    assert answer.status_code == 404
    assert "No route" not in answer.json()["error"]["message"]


def test_ids_in_uuid_routes_must_be_uuids() -> None:
    image = next(e for e in ENDPOINTS if e.path == "images/{image:uuid}")
    raw = f"images/{uuid.uuid4()}"
    assert next(e for e, _ in ROUTER.candidates("GET", raw)) is image
    assert image not in [e for e, _ in ROUTER.candidates("GET", "images/not-a-uuid")]


def test_the_document_is_public_in_python_and_on_the_server() -> None:
    from pictograph_testing.server import FakeServer

    fake = FakePictograph()
    assert fake.openapi() == openapi_document(fake.base_url)
    with FakeServer() as server:
        # No key: the document describes the API, not the world.
        served = httpx.get(f"{server.base_url}/_fake/openapi.json")
        assert served.status_code == 200
        assert served.json() == openapi_document(server.base_url)
