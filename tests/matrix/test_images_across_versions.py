"""Images, annotations, batch edits and downloads through each SDK release's own client.

SDK 1.0.0 to 1.60.0 (the seed era) take a dataset id and an image id and read results at
the root, not under ``data``; 1.61.0 to 1.69.19 take the same ids; 1.69.20 to 1.69.43
take a dataset name (and, from 1.69.21, an image's filename) and resolve them to ids
before the same id routes; 1.69.44 on call today's name routes. Each test reads the
release's own signature to pass what it takes, and skips only a method the release has
not got yet, so the one test drives every span.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

import pytest
from pictograph import BBoxAnnotation, BoundingBox, ForbiddenError, NotFoundError
from pictograph.exceptions import ValidationError
from PIL import Image as PILImage
from pydantic import TypeAdapter

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
RELEASE = parse_version(sdk_version())
FOLDER_FIELDS = ("directory_path", "folder_path", "virtual_folder_path")
"""An image's directory, under each release's name for it (1.0.0 reads none; 1.0.1
added ``virtual_folder_path``)."""


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


def _on_image(
    method: Callable[..., Any], image_id: str, filename: str, *rest: Any, **options: Any
) -> Any:
    """Call a per-image method as the release takes it: by id, or by dataset and filename."""
    if _takes_ids(method):
        return method(image_id, *rest, **options)
    return method(DATASET, filename, *rest, **options)


def _dataset_arg(fake: FakePictograph, method: Callable[..., Any]) -> str:
    """What a dataset-wide method of the release takes: the dataset's id, or its name."""
    if _takes_ids(method):
        return fake.world.dataset(fake.organization_id, DATASET).id
    return DATASET


def _needs(resource: object, method: str) -> Callable[..., Any]:
    """The release's ``method``, or a skip: it arrived after this release."""
    found = getattr(resource, method, None)
    if found is None:
        pytest.skip(f"pictograph {sdk_version()} has no {method}")
    return found  # type: ignore[no-any-return]


def _box() -> BBoxAnnotation:
    # 1.0.0's annotations need an id; later releases make one up when it is left out.
    return BBoxAnnotation(
        id="box-1", name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=10, h=8)
    )


def _folder_of(image: Any) -> list[str]:
    """The image's directory under every name its release's model reads."""
    return [getattr(image, name) for name in FOLDER_FIELDS if name in type(image).model_fields]


def _upload(fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]) -> dict[str, str]:
    ref = _dataset_ref(fake, sdk)
    uploaded = [sdk.images.upload(ref, path) for path in pngs]
    assert [image.filename for image in uploaded] == list(NAMES)
    return {image.filename: image.id for image in uploaded}


def test_upload_list_and_get(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    if hasattr(sdk.images, "list"):  # from 1.14.0
        listed = sdk.images.list(_dataset_ref(fake, sdk))
        assert sorted(image.filename for image in listed) == sorted(NAMES)
        assert {image.id for image in listed} == set(ids.values())
        assert {folder for image in listed for folder in _folder_of(image)} <= {"/"}
    image = _on_image(sdk.images.get, ids["a.png"], "a.png")
    assert (image.id, image.filename, image.width, image.height) == (ids["a.png"], "a.png", 32, 24)
    # Every release since 1.0.1 reads the image's directory, under its own name for it.
    assert _folder_of(image) == ([] if RELEASE < (1, 0, 1) else ["/"])


def test_bulk_upload(fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]) -> None:
    bulk_upload = _needs(sdk.images, "bulk_upload")
    result = bulk_upload(_dataset_ref(fake, sdk), pngs)
    assert result.failed == []
    if hasattr(result, "succeeded"):
        assert sorted(image.filename for image in result.succeeded) == sorted(NAMES)
        return
    # Before 1.61: an id and a folder per file, not the image.
    registered = {entry.filename: entry for entry in result.registered}
    assert sorted(registered) == sorted(NAMES)
    for name, entry in registered.items():
        image = fake.world.images[entry.image_id]
        assert (image.filename, image.width, image.content_type) == (name, 32, "image/png")
        assert (entry.folder_path, entry.status) == ("/", "new")


def test_a_bulk_upload_refuses_a_taken_name_per_file(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    bulk_upload = _needs(sdk.images, "bulk_upload")
    sdk.images.upload(_dataset_ref(fake, sdk), pngs[0])
    result = bulk_upload(_dataset_ref(fake, sdk), pngs)
    [failure] = result.failed
    assert failure.filename == "a.png"
    assert "already exists" in failure.error


def test_an_annotation_is_saved_and_read_back(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    saved = _on_image(sdk.annotations.save, ids["b.png"], "b.png", [_box()])
    assert (saved.image_id, saved.previous_count, saved.new_count) == (ids["b.png"], 0, 1)
    [read] = _on_image(sdk.annotations.get, ids["b.png"], "b.png")
    assert (read.name, read.bounding_box.w, read.bounding_box.h) == ("stop_sign", 10, 8)


def test_review_and_split(fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]) -> None:
    review, set_split = _needs(sdk.images, "review"), _needs(sdk.images, "set_split")
    ids = _upload(fake, sdk, pngs)
    image = fake.world.images[ids["a.png"]]
    assert _on_image(review, ids["a.png"], "a.png", "approve") == "complete"
    assert image.status == "complete"
    assert _on_image(review, ids["a.png"], "a.png", "request_changes") == "annotate"
    assert _on_image(set_split, ids["a.png"], "a.png", "val") == "val"
    assert (image.status, image.split) == ("annotate", "val")
    assert _on_image(set_split, ids["a.png"], "a.png", None) is None
    assert image.split is None


UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def test_an_unknown_image_is_not_found(sdk: pictograph.Client) -> None:
    for method in (sdk.images.get, sdk.annotations.get, sdk.annotations.delete):
        with pytest.raises(NotFoundError):
            _on_image(method, UNKNOWN_ID, "missing.png")


def test_delete_archives_then_deletes_for_good_for_an_admin(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    assert _on_image(sdk.images.delete, ids["a.png"], "a.png") is None
    assert fake.world.images[ids["a.png"]].is_archived
    member = fake.client(api_key=fake.add_api_key("member"), max_retries=0)
    with member, pytest.raises(ForbiddenError):
        _on_image(member.images.delete, ids["b.png"], "b.png", permanent=True)
    assert ids["b.png"] in fake.world.images
    _on_image(sdk.images.delete, ids["b.png"], "b.png", permanent=True)
    assert ids["b.png"] not in fake.world.images


def test_tags_and_splits_across_a_dataset(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    bulk_tag = _needs(sdk.images, "bulk_tag")
    ids = _upload(fake, sdk, pngs)
    # The count comes from the reply (the SDK reads 0 when it finds none).
    assert bulk_tag(_dataset_arg(fake, bulk_tag), list(ids.values()), ["shelf"]) == 2
    assert all(fake.world.images[i].tags == ["shelf"] for i in ids.values())
    assert bulk_tag(_dataset_arg(fake, bulk_tag), [ids["a.png"]], ["shelf"], add=False) == 1
    assert fake.world.images[ids["a.png"]].tags == []
    assign_splits = _needs(sdk.images, "assign_splits")
    counts = assign_splits(_dataset_arg(fake, assign_splits), train=50, val=50, test=0, seed=3)
    assert {k: counts[k] for k in ("processed", "train", "val", "test")} == {
        "processed": 2,
        "train": 1,
        "val": 1,
        "test": 0,
    }
    assert sorted(str(fake.world.images[i].split) for i in ids.values()) == ["train", "val"]


def test_annotations_are_deleted_by_an_admin(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    _on_image(sdk.annotations.save, ids["a.png"], "a.png", [_box()])
    member = fake.client(api_key=fake.add_api_key("member"), max_retries=0)
    with member, pytest.raises(ForbiddenError):
        _on_image(member.annotations.delete, ids["a.png"], "a.png")
    deleted = _on_image(sdk.annotations.delete, ids["a.png"], "a.png")
    assert (deleted.image_id, deleted.deleted_count) == (ids["a.png"], 1)
    assert _on_image(sdk.annotations.get, ids["a.png"], "a.png") == []


def test_annotations_are_saved_in_bulk(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    bulk_save = _needs(sdk.annotations, "bulk_save")
    ids = _upload(fake, sdk, pngs)
    result = bulk_save({ids["a.png"]: [_box()], UNKNOWN_ID: [_box()]})
    assert [(s.image_id, s.new_count) for s in result.saved] == [(ids["a.png"], 1)]
    assert [f.image_id for f in result.failed] == [UNKNOWN_ID]
    assert [a["name"] for a in fake.world.images[ids["a.png"]].annotations] == ["stop_sign"]


def _target(method: Callable[..., Any], folder: str) -> dict[str, Any]:
    """The destination keyword as the release names it."""
    names = inspect.signature(method).parameters
    return {
        "target_folder_path" if "target_folder_path" in names else "target_directory_path": folder
    }


def _affected(result: Any) -> list[str]:
    found: list[str] = getattr(result, "affected_folders", None) or result.affected_directories
    return found


def test_batch_moves_copies_updates_and_deletes(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    moved = sdk.batch.move(DATASET, [ids["a.png"]], **_target(sdk.batch.move, "/shelf"))
    assert (moved.processed, moved.failed) == (1, [])
    assert "/shelf" in _affected(moved)
    assert fake.world.images[ids["a.png"]].directory_path == "/shelf"
    copied = sdk.batch.copy(DATASET, [ids["b.png"]], **_target(sdk.batch.copy, "/shelf"))
    assert copied.processed == 1
    assert "/shelf" in _affected(copied)
    updated = sdk.batch.update(DATASET, [ids["a.png"], UNKNOWN_ID], status="complete")
    assert updated.processed == 1
    assert [f.id for f in updated.failed] == [UNKNOWN_ID]
    assert fake.world.images[ids["a.png"]].status == "complete"
    deleted = sdk.batch.delete(DATASET, [ids["b.png"]])
    assert deleted.processed == 1
    assert "/" in _affected(deleted)
    assert fake.world.images[ids["b.png"]].is_archived


def test_a_dataset_downloads_with_its_annotations(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path], tmp_path: Path
) -> None:
    ids = _upload(fake, sdk, pngs)
    _on_image(sdk.annotations.save, ids["a.png"], "a.png", [_box()])
    out = tmp_path / "out"
    report = sdk.datasets.download(DATASET, out)
    assert report.failures == []
    assert report.dataset_id == fake.world.dataset(fake.organization_id, DATASET).id
    assert (report.images_downloaded, report.annotations_downloaded) == (2, 2)
    [written] = list(out.rglob("a.png"))
    assert written.read_bytes() == pngs[0].read_bytes()
    report = sdk.datasets.download(DATASET, tmp_path / "labels", mode="annotations_only")
    assert (report.images_downloaded, report.annotations_downloaded) == (0, 2)


def _model(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def test_every_reply_validates_against_the_releases_own_models(
    fake: FakePictograph, sdk: pictograph.Client, pngs: list[Path]
) -> None:
    ids = _upload(fake, sdk, pngs)
    if hasattr(sdk.images, "list"):
        sdk.images.list(_dataset_ref(fake, sdk))
    _on_image(sdk.annotations.save, ids["a.png"], "a.png", [_box()])
    _on_image(sdk.annotations.get, ids["a.png"], "a.png")
    sdk.batch.move(DATASET, [ids["a.png"]], **_target(sdk.batch.move, "/shelf"))
    image_model = _model("pictograph.models.image", "Image")
    annotation = _model("pictograph.models.annotation", "Annotation")  # the release's own
    annotations: TypeAdapter[list[Any]] = TypeAdapter(list[annotation])  # type: ignore[valid-type]
    batch_result = _model("pictograph.models.batch", "BatchResult")
    checked = 0
    for call in fake.calls:
        body = call.response_json()
        if call.status >= 400 or not isinstance(body, dict):
            continue
        route = call.path.split("?")[0].removeprefix("/api/v1/developer/")
        if route.startswith("images/") and not route.startswith("images/upload-url"):
            # The one image or the page: under `data` or the release's own key.
            for key in ("data", "image", "images"):
                value = body.get(key)
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict) and "filename" in item:
                        image_model.model_validate(item)
                        checked += 1
        elif route.startswith("annotations/") and "annotations" in body:
            annotations.validate_python(body["annotations"])
            checked += 1
        elif route.startswith("batch/"):
            batch_result.model_validate(body)
            checked += 1
    assert checked >= 5


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
            # An early release's signatures: by image id alone.
            await client.annotations.save(image.id, [box])  # type: ignore[call-arg, arg-type]
            read = await client.annotations.get(image.id)  # type: ignore[call-arg]
        else:
            await client.annotations.save(DATASET, image.filename, [box])
            read = await client.annotations.get(DATASET, image.filename)
        assert [annotation.name for annotation in read] == ["stop_sign"]


async def test_the_async_client_edits_batches_and_downloads(
    fake: FakePictograph, pngs: list[Path], tmp_path: Path
) -> None:
    if optional_module("pictograph.aio") is None:
        pytest.skip(f"pictograph {sdk_version()} has no AsyncClient")
    if _ASYNC_ID_UPLOADS.holds(RELEASE, "async"):
        # Its uploads failed against the API of its day too, so nothing follows them
        # (the test above pins that failure).
        pytest.skip(f"pictograph {sdk_version()}'s async uploads send `dataset_id`")
    async with fake.async_client(max_retries=0) as client:
        ref = _dataset_arg(fake, client.images.upload)
        uploaded = {p.name: (await client.images.upload(ref, p)).id for p in pngs}

        async def on_image(method: Callable[..., Any], name: str, *rest: Any) -> Any:
            return await _on_image(method, uploaded.get(name, UNKNOWN_ID), name, *rest)

        # `review` arrived in 1.47.0, `set_split` in 1.48.0.
        if hasattr(client.images, "review"):
            assert await on_image(client.images.review, "a.png", "request_changes") == "annotate"
            assert fake.world.images[uploaded["a.png"]].status == "annotate"
        if hasattr(client.images, "set_split"):
            assert await on_image(client.images.set_split, "a.png", "test") == "test"
            assert fake.world.images[uploaded["a.png"]].split == "test"
        tagged = await client.images.bulk_tag(
            _dataset_arg(fake, client.images.bulk_tag), list(uploaded.values()), ["shelf"]
        )
        assert tagged == 2
        await on_image(client.annotations.save, "b.png", [_box()])
        deleted = await on_image(client.annotations.delete, "b.png")
        assert deleted.deleted_count == 1
        moved = await client.batch.move(
            DATASET, [uploaded["b.png"]], **_target(client.batch.move, "/shelf")
        )
        assert "/shelf" in _affected(moved)
        report = await client.datasets.download(DATASET, tmp_path / "out")
        assert (report.images_downloaded, report.failures) == (2, [])
        assert report.dataset_id == fake.world.dataset(fake.organization_id, DATASET).id
        await on_image(client.images.delete, "a.png")
        assert fake.world.images[uploaded["a.png"]].is_archived
        with pytest.raises(NotFoundError):
            await on_image(client.images.delete, "missing.png")
