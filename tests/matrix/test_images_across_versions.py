"""Images and annotations through each SDK release's own client, whatever its wire.

SDK 1.61.0 to 1.69.19 take a dataset id and an image id; 1.69.20 to 1.69.43 take a
dataset name (and, from 1.69.21, an image's filename) and resolve them to ids before the
same id routes; 1.69.44 on call today's name routes. Each test reads the release's own
signature to pass what it takes, so the one test drives every span.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pytest
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import ValidationError
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from pictograph_testing._sdk.layout import optional_module, sdk_version
from pictograph_testing.api.dialects import SDK_DEFECTS, parse_version

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    import pictograph

DATASET = "site-photos"
_ASYNC_ID_UPLOADS = next(d.span for d in SDK_DEFECTS if "images.upload" in d.calls[0])
NAMES = ("a.png", "b.png")

# Before 1.61 images and annotations spoke another wire again (a form-encoded register,
# `mime_type`, annotations by image id with the image's id in the body...), of which the
# fake serves the upload and listing only (tests/matrix/test_setup_across_versions.py).
pytestmark = pytest.mark.skipif(
    parse_version(sdk_version()) < (1, 61, 0),
    reason="the seed era's image and annotation routes beyond upload are not served yet",
)


@pytest.fixture
def fake(no_real_waiting: None) -> Iterator[FakePictograph]:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, classes=["stop_sign"])
        yield fake


@pytest.fixture
def sdk(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(max_retries=0) as client:
        yield client


@pytest.fixture
def pngs(tmp_path: Path) -> list[Path]:
    paths = []
    for shade, name in enumerate(NAMES):
        path = tmp_path / name
        PILImage.new("RGB", (32, 24), (40 * shade, 90, 160)).save(path)
        paths.append(path)
    return paths


def _takes_ids(method: Callable[..., Any]) -> bool:
    """Whether the release's method takes ids (``dataset_id`` / ``image_id``) first."""
    return next(iter(inspect.signature(method).parameters)) in ("dataset_id", "image_id")


def _dataset_ref(fake: FakePictograph, sdk: pictograph.Client) -> str:
    """What the release's ``images.upload`` takes: the dataset's id, or its name."""
    if _takes_ids(sdk.images.upload):
        return fake.world.dataset(fake.organization_id, DATASET).id
    return DATASET


def _on_image(method: Callable[..., Any], image_id: str, filename: str, *rest: Any) -> Any:
    """Call a per-image method as the release takes it: by id, or by dataset and filename."""
    if _takes_ids(method):
        return method(image_id, *rest)
    return method(DATASET, filename, *rest)


def _upload(fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]) -> dict[str, str]:
    ref = _dataset_ref(fake, sdk)
    uploaded = [sdk.images.upload(ref, path) for path in pngs]
    assert [image.filename for image in uploaded] == list(NAMES)
    return {image.filename: image.id for image in uploaded}


def test_upload_list_and_get(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    listed = sdk.images.list(_dataset_ref(fake, sdk))
    assert sorted(image.filename for image in listed) == sorted(NAMES)
    assert {image.id for image in listed} == set(ids.values())
    image = _on_image(sdk.images.get, ids["a.png"], "a.png")
    assert (image.id, image.filename, image.width, image.height) == (ids["a.png"], "a.png", 32, 24)
    # Every release reads the image's directory, under its own name for it.
    assert (getattr(image, "directory_path", None) or getattr(image, "folder_path", None)) == "/"


def test_bulk_upload(fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]) -> None:
    result = sdk.images.bulk_upload(_dataset_ref(fake, sdk), pngs)
    assert sorted(image.filename for image in result.succeeded) == sorted(NAMES)
    assert result.failed == []


def test_an_annotation_is_saved_and_read_back(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    box = BBoxAnnotation(name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=10, h=8))
    saved = _on_image(sdk.annotations.save, ids["b.png"], "b.png", [box])
    assert (saved.image_id, saved.previous_count, saved.new_count) == (ids["b.png"], 0, 1)
    [read] = _on_image(sdk.annotations.get, ids["b.png"], "b.png")
    assert (read.name, read.bounding_box.w, read.bounding_box.h) == ("stop_sign", 10, 8)


def test_review_and_split(fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]) -> None:
    ids = _upload(fake, sdk, pngs)
    if hasattr(sdk.images, "review"):
        status = _on_image(sdk.images.review, ids["a.png"], "a.png", "request_changes")
        assert status == "annotate"
    if hasattr(sdk.images, "set_split"):
        assert _on_image(sdk.images.set_split, ids["a.png"], "a.png", "val") == "val"
    image = fake.world.images[ids["a.png"]]
    assert (image.status, image.split) == ("annotate", "val")


async def test_the_async_client_uploads_lists_and_annotates(
    fake: FakePictograph, pngs: list[Path]
) -> None:
    if optional_module("pictograph.aio") is None:
        pytest.skip(f"pictograph {sdk_version()} has no AsyncClient")
    if _ASYNC_ID_UPLOADS.holds(parse_version(sdk_version()), "async"):
        # The async client left the id wire later than the sync one: its uploads still
        # sent `dataset_id`, which the API no longer took (dialects.SDK_DEFECTS).
        async with fake.async_client(max_retries=0) as client:
            with pytest.raises(ValidationError):
                await client.images.upload(DATASET, pngs[0])
        assert fake.world.images == {}
        return
    async with fake.async_client(max_retries=0) as client:
        ref = DATASET
        if _takes_ids(client.images.upload):
            ref = fake.world.dataset(fake.organization_id, DATASET).id
        uploaded = [await client.images.upload(ref, path) for path in pngs]
        listed = await client.images.list(ref)
        assert sorted(image.id for image in listed) == sorted(image.id for image in uploaded)
        box = BBoxAnnotation(name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=10, h=8))
        image = uploaded[0]
        if _takes_ids(client.annotations.save):
            await client.annotations.save(image.id, [box])
            read = await client.annotations.get(image.id)
        else:
            await client.annotations.save(DATASET, image.filename, [box])
            read = await client.annotations.get(DATASET, image.filename)
        assert [annotation.name for annotation in read] == ["stop_sign"]
