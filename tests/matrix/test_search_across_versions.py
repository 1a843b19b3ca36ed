"""Image search through each SDK release's own clients.

``search`` is in every release: ``by_similarity`` took the image's id (and
``folder_path``) until it took a dataset and a filename, and releases before 1.69.43
read ``virtual_folder_path``. ``datasets.near_duplicates`` arrived with 1.35.0, by id
(by name too from 1.61.0), read at the root before 1.61.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pytest

from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import parse_version
from tests.matrix.conftest import DATASET

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph

RELEASE = parse_version(sdk_version())
TRAIN = "/train"


def _in_train(world: FakePictograph) -> list[str]:
    """Move the dataset's first ten images to /train; their ids."""
    fake = world.world
    with fake.lock:
        dataset = fake.dataset(fake.default_org.id, DATASET)
        moved = fake.dataset_images(dataset)[:10]
        fake.image_service.relocate(dataset, moved, TRAIN)
    return [image.id for image in moved]


def _directory(row: Any) -> str:
    """Where a result says its image is, under the release's name for it."""
    return str(getattr(row, "virtual_directory_path", None) or row.virtual_folder_path)


def _similar_args(method: Any, dataset_id: str, image_id: str) -> tuple[list[Any], dict[str, Any]]:
    names = inspect.signature(method).parameters
    scope = "directory_path" if "directory_path" in names else "folder_path"
    args = [image_id] if "image_id" in names else [dataset_id, image_id]
    return args, {"threshold": 0.0, scope: TRAIN}


def test_the_sync_client(world: FakePictograph, sdk: pictograph.Client) -> None:
    in_train = _in_train(world)
    dataset_id = sdk.datasets.list()[0].id
    tagged = sdk.search.by_tag(objects=["yield"], dataset_name=DATASET)
    assert tagged
    assert all("yield" in row.image_auto_tags["objects"] for row in tagged)
    args, kwargs = _similar_args(sdk.search.by_similarity, dataset_id, in_train[0])
    similar = sdk.search.by_similarity(*args, **kwargs)
    assert {row.id for row in similar} == set(in_train[1:])
    assert {_directory(row) for row in similar} == {TRAIN}
    if RELEASE < (1, 35, 0):
        assert not hasattr(sdk.datasets, "near_duplicates")
        return
    names = inspect.signature(sdk.datasets.near_duplicates).parameters
    scope = "directory_path" if "directory_path" in names else "folder_path"
    kwargs = {scope: TRAIN} if scope in names else {}
    result = sdk.datasets.near_duplicates(dataset_id=dataset_id, threshold=0.9999, **kwargs)
    assert result.groups
    members = [m for group in result.groups for m in group.members]
    expected_scope = {TRAIN} if kwargs else {TRAIN, "/"}
    assert {_directory(m) for m in members} <= expected_scope
    assert result.redundant_count == sum(g.size - 1 for g in result.groups)


async def test_the_async_client(world: FakePictograph, async_sdk: pictograph.AsyncClient) -> None:
    in_train = _in_train(world)
    dataset_id = (await async_sdk.datasets.list())[0].id
    args, kwargs = _similar_args(async_sdk.search.by_similarity, dataset_id, in_train[0])
    similar = await async_sdk.search.by_similarity(*args, **kwargs)
    assert {row.id for row in similar} == set(in_train[1:])
    if RELEASE >= (1, 35, 0):
        result = await async_sdk.datasets.near_duplicates(dataset_id=dataset_id)
        assert result.analyzed == 20


@pytest.mark.skipif(RELEASE < (1, 35, 0), reason="near_duplicates arrived with 1.35.0")
def test_near_duplicates_by_name_where_the_release_takes_one(sdk: pictograph.Client) -> None:
    if "name" not in inspect.signature(sdk.datasets.near_duplicates).parameters:
        pytest.skip(f"pictograph {sdk_version()} takes a dataset id only")
    assert sdk.datasets.near_duplicates(DATASET).total_images == 20
