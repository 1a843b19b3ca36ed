"""Annotation tasks (1.69.59 on) and vision tools (1.69.98 on) through each release's own
clients. A task's dataset is sent as ``dataset_id`` / ``dataset`` and as the
``project_id`` / ``project`` that ``Task`` required until 1.69.62, so every release reads
its own keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pictograph_testing._sdk.layout import sdk_version
from tests.matrix.conftest import DATASET

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph


def _needs(client: object, resource: str, since: str) -> None:
    if not hasattr(client, resource):
        pytest.skip(f"pictograph {sdk_version()} has no {resource} (it arrived in {since})")


def test_tasks_and_their_contributions(world: FakePictograph, sdk: pictograph.Client) -> None:
    _needs(sdk, "tasks", "1.69.59")
    ann = world.add_member("ann@example.com", "member", full_name="Ann Lee")
    task = world.add_task(DATASET, assignees=[ann], images=3, title="Label")
    world.track_task_time(task, ann, "img-00001.jpg", 60)
    [listed] = sdk.tasks.list()
    dataset_id = getattr(listed, "dataset_id", None) or listed.project_id  # type: ignore[attr-defined]
    assert (listed.id, listed.image_count, dataset_id) == (task.id, 3, task.dataset_id)
    assert [t.id for t in sdk.tasks.iter()] == [task.id]
    [share] = sdk.tasks.contributions(task.id).contributors
    assert (share.full_name, share.active_seconds, share.images_worked) == ("Ann Lee", 60, 1)
    assert not world.unserved_calls


async def test_tasks_async(world: FakePictograph, async_sdk: pictograph.AsyncClient) -> None:
    _needs(async_sdk, "tasks", "1.69.59")
    task = world.add_task(DATASET, images=2)
    assert [t.id for t in await async_sdk.tasks.list()] == [task.id]
    assert (await async_sdk.tasks.contributions(task.id)).total_images == 2
    assert not world.unserved_calls


def test_tools(world: FakePictograph, sdk: pictograph.Client) -> None:
    _needs(sdk, "tools", "1.69.98")
    assert [t.tool for t in sdk.tools.list()] == ["sam3"]
    assert sdk.tools.describe("sam3").mode("image") is not None
    assert not world.unserved_calls


async def test_tools_async(world: FakePictograph, async_sdk: pictograph.AsyncClient) -> None:
    _needs(async_sdk, "tools", "1.69.98")
    assert [t.tool for t in await async_sdk.tools.list(kind="sam3")] == ["sam3"]
    assert (await async_sdk.tools.describe("sam3")).tool == "sam3"
