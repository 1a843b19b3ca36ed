"""Values only some releases' API took: refused to the others, never sent to them.

``gpu_type="auto"`` arrived with SDK 1.67.3, ``rfdetr_keypoint`` with 1.67.16, export
formats and model download formats one by one; a release older than a value cannot
parse a run, export or model that holds it. The fake refuses the value to those releases
as their API did (a 422 naming the values that release could send), so it never answers
them with it. ``image_generate_imagen_fast`` runs the other way: priced up to 1.69.92,
an unknown operation since. Each case is asked as the newest SDK with the fake set to
the release (``sdk_version``); ``tests/matrix`` asks the real releases themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pytest
from pictograph.exceptions import ValidationError
from pictograph.models.export import ExportFormat

from pictograph_testing import FakePictograph
from pictograph_testing.api.dialects import (
    EXPORT_FORMATS_BY_RELEASE,
    GPU_TYPES_BY_RELEASE,
    MODEL_FORMATS_BY_RELEASE,
    PIPELINES_BY_RELEASE,
    Span,
    before,
    format_version,
    sdk_client_of,
    since,
)
from pictograph_testing.api.table import Bare, Endpoint, Router
from pictograph_testing.api.wire import Reply
from pictograph_testing.catalog import LEGACY_CREDIT_MICRO_USD
from pictograph_testing.fidelity import sdk_versions_page

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph


# The formats `models.download` takes (the SDK spells them inline, with no alias).
DownloadFormat = Literal["onnx", "pytorch", "safetensors", "pte", "engine"]

DATASET = "road-signs"
EXPORT = "road-signs-v1"
"""The ``ready-to-train`` scenario's dataset and export."""


def _previous(version: tuple[int, int, int]) -> str:
    """The release string just before ``version`` in the fake's eyes (x.y.z-1, or x.y-1.99)."""
    major, minor, patch = version
    return f"{major}.{minor}.{patch - 1}" if patch else f"{major}.{minor - 1}.99"


def _fake(version: str) -> FakePictograph:
    """A ready-to-train world under today's profile, answering in ``version``'s dialect."""
    return FakePictograph(scenario="ready-to-train", profile="current", sdk_version=version)


# ── training: pipelines and GPU types ──


@pytest.mark.parametrize(
    ("field", "value", "vocabulary"),
    [
        ("gpu_type", "auto", GPU_TYPES_BY_RELEASE),
        ("pipeline_type", "rfdetr_keypoint", PIPELINES_BY_RELEASE),
    ],
)
def test_a_training_value_is_refused_to_releases_before_it(
    field: str, value: str, vocabulary: Any
) -> None:
    first = vocabulary.spans[value].since
    options: dict[str, Any] = {"pipeline_type": "yolox", "gpu_type": "a10g", field: value}
    older = _fake(_previous(first))
    with older, older.client(max_retries=0) as client:
        for call in (
            lambda: client.training.quote(DATASET, EXPORT, **options),
            lambda: client.training.create(DATASET, EXPORT, name="r", wait=False, **options),
        ):
            with pytest.raises(ValidationError) as caught:
                call()
            assert caught.value.status_code == 422
            assert f"Unknown {field} '{value}'" in str(caught.value)
            assert f"from SDK releases {format_version(first)}+" in str(caught.value)
            [error] = caught.value.field_errors
            assert error["loc"] == ["body", field]
            assert f"'{value}'" not in error["msg"]  # what that release could send instead
            assert "'a10g'" in error["msg"] or "'yolox'" in error["msg"]
        assert client.training.list() == []
        assert older.ledger == ()
    newer = _fake(format_version(first))
    with newer, newer.client(max_retries=0) as client:
        run = client.training.create(DATASET, EXPORT, name="r", wait=False, **options)
        # A run on `auto` reports the tier it resolved to, which every release parses.
        assert getattr(run, field) == (value if field == "pipeline_type" else "a10g")


async def test_the_async_client_is_refused_the_same() -> None:
    with _fake("1.67.1") as fake:
        async with fake.async_client(max_retries=0) as client:
            with pytest.raises(ValidationError) as caught:
                await client.training.quote(DATASET, EXPORT, pipeline_type="yolox", gpu_type="auto")
            assert await client.training.list() == []
    assert caught.value.field_errors[0]["loc"] == ["body", "gpu_type"]


# ── exports ──


# Those that arrived before 1.61 (`darwin`, `datumaro`) are asked by those releases'
# own SDKs in tests/matrix: today's SDK cannot read their exports' envelope.
_LATE_FORMATS = sorted(
    fmt for fmt, span in EXPORT_FORMATS_BY_RELEASE.spans.items() if span.since >= (1, 61, 0)
)


@pytest.mark.parametrize("fmt", _LATE_FORMATS)
def test_an_export_format_is_refused_to_releases_before_it(fmt: ExportFormat) -> None:
    first = EXPORT_FORMATS_BY_RELEASE.spans[fmt].since
    older = _fake(_previous(first))
    with older, older.client(max_retries=0) as client:
        with pytest.raises(ValidationError) as caught:
            client.exports.create(DATASET, "new-one", format=fmt)
        assert caught.value.status_code == 422
        assert caught.value.field_errors[0]["loc"] == ["body", "format"]
        assert "'coco'" in caught.value.field_errors[0]["msg"]
        assert [e.name for e in client.exports.list(dataset_name=DATASET)] == [EXPORT]
    newer = _fake(format_version(first))
    with newer, newer.client(max_retries=0) as client:
        assert client.exports.create(DATASET, "new-one", format=fmt).format == fmt


# ── model downloads ──


def _train(client: pictograph.Client) -> str:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m")
    assert run.model_id is not None
    return run.model_id


@pytest.mark.parametrize("fmt", ["safetensors", "pte"])
def test_a_model_format_is_refused_to_releases_before_it(
    fmt: DownloadFormat, tmp_path: Path
) -> None:
    first = MODEL_FORMATS_BY_RELEASE.spans[fmt].since
    older = _fake(_previous(first))
    with older, older.client(max_retries=0) as client:
        model_id = _train(client)
        with pytest.raises(ValidationError) as caught:
            client.models.download(model_id=model_id, output_path=tmp_path / "w", format=fmt)
        assert caught.value.field_errors[0]["loc"] == ["query", "format"]
        assert "'onnx'" in caught.value.field_errors[0]["msg"]
        assert list(tmp_path.iterdir()) == []
    if fmt == "safetensors":  # `pte` is never built here: its own 409 (tests/test_models.py)
        newer = _fake(format_version(first))
        with newer, newer.client(max_retries=0) as client:
            model_id = _train(client)
            path = client.models.download(model_id=model_id, output_path=tmp_path / "w", format=fmt)
            assert path.stat().st_size > 0


# ── credits.estimate: a retired operation ──


def test_imagen_fast_is_priced_for_the_releases_that_name_it() -> None:
    with _fake("1.69.92") as fake, fake.client(max_retries=0) as client:
        estimate = client.credits.estimate("image_generate_imagen_fast", quantity=4)
    assert (estimate.unit, estimate.micro_usd_per_unit, estimate.total_micro_usd) == (
        "call",
        30_000,
        120_000,
    )
    newer = _fake("1.69.93")
    with newer, newer.client(max_retries=0) as client, pytest.raises(ValidationError) as caught:
        client.credits.estimate("image_generate_imagen_fast")
    assert caught.value.status_code == 400
    assert "Unknown operation: image_generate_imagen_fast" in str(caught.value)


@pytest.mark.parametrize(("gpu", "quantity"), [("a10g", 30), ("h100", 10), ("a100", 7)])
def test_sdk_1_0_s_estimate_total_is_its_per_unit_price_times_the_quantity(
    gpu: str, quantity: int
) -> None:
    # Its CreditEstimate: "Total cost (credits_per_unit * quantity, clamped to minimum)",
    # and sufficient "if the org has enough credits for total_credits".
    with _fake("1.0.0") as fake, fake.client(max_retries=0) as client:
        estimate = client.credits.estimate(f"training_{gpu}_per_minute", quantity=quantity)
        assert estimate.minimum == 0
        assert estimate.total_credits == estimate.credits_per_unit * quantity
        assert estimate.sufficient == (estimate.credits_remaining >= estimate.total_credits)
        # Priced up from what the API charges: never cheaper than the µUSD estimate.
        today = fake.world.billing.estimate(f"training_{gpu}", quantity).total_micro_usd
        assert estimate.total_credits * LEGACY_CREDIT_MICRO_USD >= today


@pytest.mark.parametrize(
    ("slug", "unit", "credits_per_unit"),
    [("sam3_per_minute", "minute", 3), ("image_inference", "call", 1)],
)
def test_sdk_1_0_s_own_operation_slugs_are_priced_for_it(
    slug: str, unit: str, credits_per_unit: int
) -> None:
    # SDK 1.0.x's docstrings, CLI help and tests name these slugs (1.1.0 renamed them).
    with _fake("1.0.3") as fake, fake.client(max_retries=0) as client:
        estimate = client.credits.estimate(slug, quantity=5)
    assert (estimate.operation, estimate.unit, estimate.quantity) == (slug, unit, 5)
    assert (estimate.credits_per_unit, estimate.total_credits) == (
        credits_per_unit,
        5 * credits_per_unit,
    )
    assert estimate.sufficient
    newer = _fake("1.1.0")
    with newer, newer.client(max_retries=0) as client, pytest.raises(ValidationError) as caught:
        client.credits.estimate(slug)
    assert caught.value.status_code == 400
    assert f"Unknown operation: {slug}" in str(caught.value)


async def test_sdk_1_0_s_operation_slugs_are_unknown_to_todays_async_client() -> None:
    with FakePictograph() as fake:
        async with fake.async_client(max_retries=0) as client:
            for slug in ("sam3_per_minute", "image_inference"):
                with pytest.raises(ValidationError):
                    await client.credits.estimate(slug)


async def test_imagen_fast_is_unknown_to_todays_async_client() -> None:
    with FakePictograph() as fake:
        async with fake.async_client(max_retries=0) as client:
            with pytest.raises(ValidationError):
                await client.credits.estimate("image_generate_imagen_fast")
            estimate = await client.credits.estimate("image_generate_gemini_3_1_flash")
    assert estimate.micro_usd_per_unit == 25_000


# ── the client kind: a span may name one ──


def test_the_client_is_read_from_the_user_agent() -> None:
    assert sdk_client_of("pictograph-python-async/1.69.44") == "async"
    assert sdk_client_of("pictograph-python/1.69.44") == "sync"
    assert sdk_client_of(None) == "sync"
    assert sdk_client_of("curl/8.5.0") == "sync"


def test_a_span_of_one_client_holds_only_for_it() -> None:
    span = before("1.69.48", since="1.69.44", client="async")
    assert span.holds((1, 69, 44), "async")
    assert not span.holds((1, 69, 44), "sync")
    assert not span.holds((1, 69, 48), "async")
    assert str(span) == "1.69.44 to before 1.69.48 (async client)"
    assert since("1.67.3").holds((1, 69, 0), "async")


def test_the_router_tells_the_clients_apart() -> None:
    def handler(call: Any) -> Reply:
        return Reply(200, b"{}")

    only_async = Endpoint(
        "GET", "things/{thing}", handler, "x", (), Bare("X"), span=Span(client="async")
    )
    everyone = Endpoint("GET", "things/{thing}", handler, "y", (), Bare("X"))
    router = Router([only_async, everyone])
    assert [e for e, _ in router.candidates("GET", "things/a", client="async")] == [
        only_async,
        everyone,
    ]
    assert [e for e, _ in router.candidates("GET", "things/a")] == [everyone]


def test_the_versions_page_lists_the_values_and_their_releases() -> None:
    page = sdk_versions_page()
    assert "| 1.67.3+ | `POST /training/` | takes `gpu_type` `auto` |" in page
    assert "| 1.0.0 to before 1.69.93 | `GET /credits/estimate` |" in page


def test_every_vocabulary_names_a_field_its_route_declares() -> None:
    from pictograph_testing.api.resources import ENDPOINTS
    from pictograph_testing.api.spec import Str

    declared = 0
    for endpoint in ENDPOINTS:
        for vocabulary in endpoint.values:
            body = endpoint.body.fields if endpoint.body is not None else {}
            query = {p.name: p for p in endpoint.query}
            spec = body[vocabulary.name].spec if vocabulary.name in body else None
            spec = spec or query[vocabulary.name].spec
            # Every value a release may be refused is one the route's enum lists.
            assert isinstance(spec, Str)
            assert set(vocabulary.spans) <= set(spec.enum or ()), endpoint.path
            declared += 1
    # Create and quote (2 each), exports, model downloads, estimate; the member and invite
    # roles, the invite status.
    assert declared == 10
