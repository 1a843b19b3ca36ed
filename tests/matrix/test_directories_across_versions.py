"""Directories through each SDK release's own clients.

The resource arrived in 1.69.43 (``folders`` before, on routes the API renamed, which
get its "No route" 404 today): 1.69.43
and the async client to 1.69.47 call id-addressed paths the API never served, and get its
"No route" 404 (``dialects.SDK_DEFECTS``); 1.69.43 creates with ``dataset_id``, which
its API took, and the async client's ``dataset_id`` to 1.69.47 was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import NotFoundError, ValidationError

from pictograph_testing import FakePictograph
from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import SDK_DEFECTS, Client, parse_version

if TYPE_CHECKING:
    from collections.abc import Iterator

DATASET = "site-photos"
RELEASE = parse_version(sdk_version())

directories_era = pytest.mark.skipif(
    RELEASE < (1, 69, 43), reason="directories arrived in 1.69.43 (folders before)"
)


def _fails(call: str, client: Client) -> str | None:
    """The failure the API gave this release's ``client`` for ``call``, or ``None``."""
    for defect in SDK_DEFECTS:
        if defect.span.holds(RELEASE, client) and any(call in calls for calls in defect.calls):
            return defect.failure
    return None


@pytest.fixture
def fake(no_real_waiting: None) -> Iterator[FakePictograph]:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, images=4, completed_images=4)
        yield fake


@directories_era
def test_the_sync_client(fake: FakePictograph) -> None:
    with fake.client(max_retries=0) as sdk:
        made = sdk.directories.create(DATASET, "/train/cars")  # every release's API took it
        assert made.full_path == "/train/cars"
        if _fails("directories.list", "sync"):
            for call in (
                lambda: sdk.directories.list(DATASET),
                lambda: sdk.directories.tree(DATASET),
                lambda: sdk.directories.stats(DATASET, "/train"),
            ):
                with pytest.raises(NotFoundError, match="No route"):
                    call()
        else:
            assert [d.full_path for d in sdk.directories.list(DATASET)] == [
                "/train",
                "/train/cars",
            ]
            assert sdk.directories.rename(DATASET, "/train", "val").full_path == "/val"
            assert sdk.directories.stats(DATASET, "/val").total_directories == 2
            sdk.directories.delete(DATASET, "/val/cars")
            assert [n.full_path for n in sdk.directories.tree(DATASET)] == ["/val"]
    assert not fake.unserved_calls


@directories_era
async def test_the_async_client(fake: FakePictograph) -> None:
    async with fake.async_client(max_retries=0) as sdk:
        if _fails("directories.create", "async"):
            with pytest.raises(ValidationError):
                await sdk.directories.create(DATASET, "/train")
        else:
            made = await sdk.directories.create(DATASET, "/train")
            assert made.full_path == "/train"
        if _fails("directories.list", "async"):
            with pytest.raises(NotFoundError, match="No route"):
                await sdk.directories.list(DATASET)
        else:
            await sdk.directories.create(DATASET, "/val")
            listed = [d.full_path for d in await sdk.directories.list(DATASET, parent_path="")]
            assert "/val" in listed
            await sdk.directories.rename(DATASET, "/val", "test")
            assert (await sdk.directories.stats(DATASET, "/test")).total_images == 0
    assert not fake.unserved_calls


@pytest.mark.skipif(RELEASE >= (1, 69, 43), reason="folders became directories in 1.69.43")
def test_folders_get_the_apis_own_404(fake: FakePictograph) -> None:
    with fake.client(max_retries=0) as sdk:
        folders = getattr(sdk, "folders", None)
        if folders is None:
            pytest.skip(f"{RELEASE} has no folders resource")
        assert _fails("folders.list", "sync") == "`NotFoundError` (404)"
        calls: list[Callable[[], object]] = [
            lambda: folders.list(DATASET),
            lambda: folders.tree(DATASET),
        ]
        if hasattr(folders, "create"):  # from some release on
            calls.append(lambda: folders.create(DATASET, "/train"))
        for call in calls:
            with pytest.raises(NotFoundError, match="No route"):
                call()
    assert not fake.unserved_calls  # the API renamed them: no gap of the fake
