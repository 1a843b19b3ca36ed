"""The setup a user's code does before training, on every SDK release since 1.0.0.

Create a dataset (a *project* before 1.61), upload images, label them, export it, wait
for the export, read it, download it, then train on it as the guide does. Only calls every
release has are made; where a release names a step differently (``projects.create``
before 1.61, ``datasets.create`` after) the release's own name is used.
"""

from __future__ import annotations

import inspect
import zipfile
from typing import TYPE_CHECKING, Any

import pytest
from pictograph import BBoxAnnotation, BoundingBox
from PIL import Image

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import parse_version

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph

RELEASE = parse_version(sdk_version())
PROJECTS_ERA = RELEASE < (1, 61, 0)
"""Before 1.61, datasets were created, renamed and deleted as ``projects``."""
LISTS_IMAGES = RELEASE >= (1, 14, 0)
"""``images.list`` arrived in 1.14.0."""
NAME = "street-signs"
IMAGES = 5  # the classic profile trains on no fewer


@pytest.fixture
def fake(profile: ProfileName, no_real_waiting: None) -> Iterator[FakePictograph]:
    with FakePictograph(seed=2, profile=profile) as fake:
        yield fake


@pytest.fixture
def sdk(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(max_retries=0) as client:
        yield client


def _pngs(folder: Path, count: int) -> list[Path]:
    paths = []
    for n in range(count):
        path = folder / f"sign-{n}.png"
        Image.new("RGB", (32 + n, 24), (40 * n, 90, 160)).save(path)
        paths.append(path)
    return paths


def _label(sdk: pictograph.Client, image: Any) -> None:
    """Save one box on an uploaded image, by id or by name as the release takes it.

    The current API trains only classes the export labels (a box, for yolox); the id is
    one 1.0.0 requires, later releases make one up.
    """
    box = BBoxAnnotation(
        id="box-1", name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=10, h=8)
    )
    save = sdk.annotations.save
    if next(iter(inspect.signature(save).parameters)) == "image_id":
        # An early release's signature: (image_id, annotations).
        save(image.id, [box])  # type: ignore[call-arg, arg-type]
    else:
        save(NAME, image.filename, [box])


def _create_dataset(sdk: pictograph.Client, name: str) -> Any:
    classes = [{"name": "stop_sign", "type": "bbox"}]
    if PROJECTS_ERA:
        return sdk.projects.create(name, annotation_types=["bbox"], classes=classes)  # type: ignore[attr-defined]
    return sdk.datasets.create(name, annotation_types=["bbox"], classes=classes)


def test_create_upload_export_download_then_train(
    fake: FakePictograph, sdk: pictograph.Client, tmp_path: Path
) -> None:
    dataset = _create_dataset(sdk, NAME)
    assert dataset.name == NAME
    uploaded = [sdk.images.upload(dataset.id, path) for path in _pngs(tmp_path, IMAGES)]
    assert sorted(image.filename for image in uploaded) == [f"sign-{n}.png" for n in range(5)]
    assert uploaded[0].width == 32
    assert sdk.datasets.get(NAME).image_count == IMAGES
    if LISTS_IMAGES:
        listed = sdk.images.list(dataset.id)
        assert {image.id for image in listed} == {image.id for image in uploaded}
    for image in uploaded:
        _label(sdk, image)

    created = sdk.exports.create(NAME, "v1", wait=False)
    assert created.name == "v1"
    done = sdk.exports.wait_for_completion(NAME, "v1", timeout=600.0)
    assert done.status == "completed"
    assert sdk.exports.get(NAME, "v1").image_count == IMAGES
    assert [e.name for e in sdk.exports.list(dataset_name=NAME)] == ["v1"]
    archive = sdk.exports.download(NAME, "v1", tmp_path / "v1.zip")
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.namelist()

    run = sdk.training.create(
        dataset_name=NAME,
        export_name="v1",
        pipeline_type="yolox",
        name="signs-run",
        config={"epochs": 5},
        wait=True,
        timeout=7200.0,
    )
    assert run.status == "completed"
    assert run.model_id is not None


def test_rename_and_delete_a_dataset(sdk: pictograph.Client) -> None:
    _create_dataset(sdk, "scratch")
    if PROJECTS_ERA:
        renamed = sdk.projects.update("scratch", new_name="scratch-2")  # type: ignore[attr-defined]
        assert renamed.name == "scratch-2"
        assert sdk.projects.get("scratch-2").id == renamed.id  # type: ignore[attr-defined]
        summary = sdk.projects.delete("scratch-2")  # type: ignore[attr-defined]
        assert summary
    else:
        renamed = sdk.datasets.update("scratch", new_name="scratch-2")
        assert renamed.name == "scratch-2"
        sdk.datasets.delete("scratch-2")
    assert [d.name for d in sdk.datasets.list()] == []


def test_replace_a_datasets_classes(sdk: pictograph.Client) -> None:
    _create_dataset(sdk, "pets")
    classes = [{"name": "cat", "type": "bbox"}, {"name": "dog", "type": "polygon"}]
    # Before 1.61 `projects.update` sends the new name as `name`, beside each class's own.
    update: Any = sdk.projects.update if PROJECTS_ERA else sdk.datasets.update  # type: ignore[attr-defined]
    updated = update("pets", description="house pets", classes=classes)
    assert updated.name == "pets"
    assert updated.description == "house pets"
    assert [(c.name, c.type) for c in updated.classes] == [("cat", "bbox"), ("dog", "polygon")]
    renamed = update("pets", new_name="pets-2", classes=classes[:1])
    assert (renamed.name, [c.name for c in renamed.classes]) == ("pets-2", ["cat"])
    assert [c.name for c in sdk.datasets.get("pets-2").classes] == ["cat"]


def test_archive_and_restore_a_project(fake: FakePictograph, sdk: pictograph.Client) -> None:
    if not PROJECTS_ERA or not hasattr(sdk.projects, "archive"):  # type: ignore[attr-defined]
        pytest.skip(f"pictograph {sdk_version()} has no projects.archive (1.57.0 to 1.60.0)")
    projects: Any = sdk.projects  # type: ignore[attr-defined]
    made = _create_dataset(sdk, "old-signs")
    # The release returns the reply's dict as it is: these three keys, at the root.
    assert projects.archive("old-signs") == {
        "success": True,
        "project_id": made.id,
        "is_archived": True,
    }
    assert [p.name for p in projects.list()] == []
    hidden = projects.list(archived=True)
    assert [(p.name, p.is_archived) for p in hidden] == [("old-signs", True)]
    restored = projects.restore("old-signs")
    assert (restored["project_id"], restored["is_archived"]) == (made.id, False)
    assert [p.name for p in projects.list()] == ["old-signs"]
    assert fake.world.dataset(fake.organization_id, "old-signs").archived_at is None
