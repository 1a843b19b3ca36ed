"""What each release can send and parse, and the calls that failed against the API too.

A value only some releases' API took (``gpu_type="auto"``, ``rfdetr_keypoint``, the
newer export formats, Imagen's estimate slug) is refused to the others, so no release
is answered with a run or export its own models cannot parse
(``dialects.*_BY_RELEASE``). And the calls ``dialects.SDK_DEFECTS`` lists fail here as
they failed against the API of their day: images by id in the sync client 1.69.44 to
1.69.91, the async client's id wire 1.69.44 to 1.69.48. Each expectation is read from
those declarations, so the one test drives every release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import NotFoundError, ServerError, ValidationError
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from pictograph_testing._sdk.layout import optional_module, sdk_version
from pictograph_testing.api.dialects import (
    EXPORT_FORMATS_BY_RELEASE,
    GPU_TYPES_BY_RELEASE,
    OPERATIONS_BY_RELEASE,
    PIPELINES_BY_RELEASE,
    SDK_DEFECTS,
    Client,
    parse_version,
)
from tests.matrix.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph

RELEASE = parse_version(sdk_version())


def _box() -> BBoxAnnotation:
    # Built per test: SDK 1.0.x's annotations require an `id` as well.
    return BBoxAnnotation(name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=10, h=8))


@pytest.fixture
def current(no_real_waiting: None) -> Iterator[FakePictograph]:
    """Today's profile, the one that trains ``auto`` and ``rfdetr_keypoint``."""
    with FakePictograph(seed=1, profile="current") as fake:
        # Boxes and keypoints: both yolox and rfdetr_keypoint have classes to learn.
        fake.add_dataset(
            DATASET,
            images=20,
            completed_images=12,
            classes=["stop_sign"],
            annotation_types=["bbox", "keypoint"],
        )
        fake.add_export(DATASET, EXPORT)
        yield fake


@pytest.fixture
def sdk(current: FakePictograph) -> Iterator[pictograph.Client]:
    with current.client(max_retries=0) as client:
        yield client


def _takes(vocabulary: Any, value: str) -> bool:
    return bool(vocabulary.spans[value].holds(RELEASE))


# ── values only some releases' API took ──


@pytest.mark.parametrize(
    ("field", "value", "vocabulary"),
    [
        ("gpu_type", "auto", GPU_TYPES_BY_RELEASE),
        ("pipeline_type", "rfdetr_keypoint", PIPELINES_BY_RELEASE),
    ],
)
def test_a_run_the_release_cannot_parse_is_never_made(
    current: FakePictograph, sdk: pictograph.Client, field: str, value: str, vocabulary: Any
) -> None:
    options: dict[str, Any] = {"pipeline_type": "yolox", field: value}
    if not _takes(vocabulary, value):
        with pytest.raises(ValidationError) as caught:
            sdk.training.create(DATASET, EXPORT, name="r", wait=False, **options)
        assert caught.value.status_code == 422
        # Releases before 1.62 read no error envelope: the message is checked as sent.
        message = current.calls.last.response_json()["error"]["message"]
        assert f"Unknown {field} '{value}'" in message
        assert list(sdk.training.list()) == []
        return
    run = sdk.training.create(DATASET, EXPORT, name="r", wait=False, **options)
    # Parsed by the release's own TrainingRun: `auto` comes back as the tier it chose.
    assert getattr(run, field) == (value if field == "pipeline_type" else "a10g")


def test_a_keypoint_model_is_read_by_the_releases_whose_models_know_it(
    sdk: pictograph.Client,
) -> None:
    if not _takes(PIPELINES_BY_RELEASE, "rfdetr_keypoint"):
        pytest.skip(f"pictograph {sdk_version()} trains no rfdetr_keypoint")
    run = sdk.training.create(DATASET, EXPORT, pipeline_type="rfdetr_keypoint", name="k")
    assert run.status == "completed"
    if _fails("models.get", "sync"):
        with pytest.raises(ServerError, match="keypoint_detection"):
            sdk.models.get(model_id=run.model_id)
        with pytest.raises(ServerError):
            sdk.models.list()
        return
    assert sdk.models.get(model_id=run.model_id).model_type == "keypoint_detection"
    assert [m.model_type for m in sdk.models.list()] == ["keypoint_detection"]


def test_the_track_calls_of_1_66_0_fail_as_against_the_api(
    current: FakePictograph, sdk: pictograph.Client
) -> None:
    if not hasattr(sdk.annotations, "interpolate_track"):
        pytest.skip(f"pictograph {sdk_version()} has no annotations.interpolate_track")
    assert _fails("annotations.interpolate_track", "sync") == "`ValidationError` (422)"
    dataset = sdk.datasets.get(DATASET)
    image = sdk.images.list(DATASET)[0]
    before = current.snapshot()
    with pytest.raises(ValidationError):
        sdk.annotations.interpolate_track(dataset.id, image.id, "t1")
    with pytest.raises(ValidationError):
        # A method of the release under test that today's SDK no longer has.
        sdk.annotations.clear_track(dataset.id, image.id, "t1")  # type: ignore[attr-defined]
    assert current.snapshot() == before


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS_BY_RELEASE.spans))
def test_an_export_the_release_cannot_parse_is_never_made(sdk: pictograph.Client, fmt: str) -> None:
    if not _takes(EXPORT_FORMATS_BY_RELEASE, fmt):
        with pytest.raises(ValidationError) as caught:
            sdk.exports.create(DATASET, "other", format=fmt)  # type: ignore[arg-type]
        assert caught.value.status_code == 422
        assert [e.name for e in sdk.exports.list()] == [EXPORT]
        return
    assert sdk.exports.create(DATASET, "other", format=fmt).format == fmt  # type: ignore[arg-type]


def test_imagen_fast_is_priced_while_the_release_names_it(
    current: FakePictograph, sdk: pictograph.Client
) -> None:
    slug = "image_generate_imagen_fast"
    if not _takes(OPERATIONS_BY_RELEASE, slug):
        with pytest.raises(ValidationError) as caught:
            sdk.credits.estimate(slug, quantity=2)
        assert caught.value.status_code == 400
        assert (
            current.calls.last.response_json()["error"]["message"] == f"Unknown operation: {slug}"
        )
        return
    estimate = sdk.credits.estimate(slug, quantity=2)
    # 1.0.x reads whole credits (3 an image); later releases µUSD.
    if RELEASE < (1, 1, 0):
        assert estimate.total_credits == 6
    else:
        assert (estimate.micro_usd_per_unit, estimate.total_micro_usd) == (30_000, 60_000)


# ── calls that failed against the API too ──


def _fails(call: str, client: Client) -> str | None:
    """The failure the API gave this release's ``client`` for ``call``, or ``None``."""
    for defect in SDK_DEFECTS:
        if defect.span.holds(RELEASE, client) and any(call in calls for calls in defect.calls):
            return defect.failure
    return None


name_era = pytest.mark.skipif(
    RELEASE < (1, 69, 44),
    reason="before 1.69.44 images go by id (tests/matrix/test_images_across_versions.py)",
)


@pytest.fixture
def images(no_real_waiting: None, tmp_path: Path) -> Iterator[tuple[FakePictograph, Path]]:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, images=2, classes=["stop_sign"])
        for shade, name in enumerate(("a.png", "b.png")):
            PILImage.new("RGB", (32, 24), (40 * shade, 90, 160)).save(tmp_path / name)
        yield fake, tmp_path


@name_era
def test_the_sync_client_by_image_id(images: tuple[FakePictograph, Path]) -> None:
    fake, folder = images
    with fake.client(max_retries=0) as sdk:
        image = sdk.images.upload(DATASET, folder / "a.png")
        assert sdk.images.get(DATASET, "a.png").id == image.id  # a filename always worked
        if _fails("images.get(dataset, <image id>)", "sync"):
            with pytest.raises(UnicodeDecodeError):
                sdk.images.get(DATASET, image.id)
        else:
            assert sdk.images.get(DATASET, image.id).filename == "a.png"
        if _fails("set_split", "sync"):
            with pytest.raises(UnicodeDecodeError):
                sdk.images.set_split(DATASET, image.id, "val")
            with pytest.raises(UnicodeDecodeError):
                sdk.annotations.save(DATASET, image.id, [_box()])
            assert fake.world.images[image.id].split is None  # nothing was changed
        else:
            assert sdk.images.set_split(DATASET, image.id, "val") == "val"
            assert sdk.annotations.save(DATASET, image.id, [_box()]).new_count == 1


@name_era
async def test_the_async_client(images: tuple[FakePictograph, Path]) -> None:
    if optional_module("pictograph.aio") is None:
        pytest.skip(f"pictograph {sdk_version()} has no AsyncClient")
    fake, folder = images
    seeded = next(iter(fake.world.images.values()))
    per_image = _fails("annotations.get / save / delete", "async")
    async with fake.async_client(max_retries=0) as client:
        assert len(await client.images.list(DATASET)) == 2
        if _fails("images.upload", "async"):
            with pytest.raises(ValidationError) as caught:
                await client.images.upload(DATASET, folder / "a.png")
            assert caught.value.status_code == 422
        else:
            await client.images.upload(DATASET, folder / "a.png")
        # By filename: only the releases that called the id routes fail.
        if per_image == "`NotFoundError` (404)":
            with pytest.raises(NotFoundError):
                await client.annotations.save(DATASET, seeded.filename, [_box()])
        else:
            await client.annotations.save(DATASET, seeded.filename, [_box()])
            read = await client.annotations.get(DATASET, seeded.filename)
            assert [a.name for a in read] == ["stop_sign"]
        # By id: those, and the releases that resolved an id through the bytes route.
        if per_image is None:
            assert await client.images.set_split(DATASET, seeded.id, "val") == "val"
        else:
            expected = NotFoundError if "404" in per_image else UnicodeDecodeError
            with pytest.raises(expected):
                await client.images.set_split(DATASET, seeded.id, "val")
    uploaded = 2 if _fails("images.upload", "async") else 3
    assert len(fake.world.images) == uploaded
