"""Explore and the public-dataset import on every release that has them (1.69.124 on):
the catalog read, a dataset imported and waited for, sync and async."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pictograph_testing._sdk.layout import sdk_version

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph

SOURCE = "COCO-5k"


def _published(world: FakePictograph, client: object) -> str:
    """Another organization publishes ``COCO-5k``; its qualified public name."""
    if not hasattr(client, "explore"):
        pytest.skip(f"pictograph {sdk_version()} has no explore (it arrived in 1.69.124)")
    research = world.add_organization(name="Pictograph Research")
    research.add_dataset(SOURCE, images=6, completed_images=6, visibility="public")
    return f"{research.slug}/coco-5k"


def test_a_public_dataset_is_listed_and_imported(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    ref = _published(world, sdk)
    [row] = sdk.explore.datasets()
    assert (row.ref, row.image_count) == (ref, 6)
    assert sdk.explore.dataset(ref).id == row.id
    done = sdk.datasets.import_public(ref)
    assert (done.status, done.image_count, done.dataset_name) == ("completed", 6, SOURCE)
    assert sdk.datasets.get(SOURCE).image_count == 6


async def test_async_a_public_dataset_is_listed_and_imported(
    world: FakePictograph, async_sdk: pictograph.AsyncClient
) -> None:
    ref = _published(world, async_sdk)
    assert [d.ref for d in await async_sdk.explore.datasets()] == [ref]
    job = await async_sdk.datasets.import_public(ref, wait=False)
    done = await async_sdk.datasets.wait_for_public_import(job.import_id)
    assert (done.status, done.image_count) == ("completed", 6)
