"""Shared fixtures: an active fake with a dataset and an export ready to train."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pictograph
import pytest

from pictograph_testing import FakePictograph

DATASET = "road-signs"
EXPORT = "road-signs-20260512-120000"


@pytest.fixture
def fake() -> Iterator[FakePictograph]:
    """An active classic-profile fake with a 20-image dataset and a completed export."""
    with FakePictograph(seed=1) as world:
        world.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        world.add_export(DATASET, EXPORT)
        yield world


@pytest.fixture
def current_fake() -> Iterator[FakePictograph]:
    """The same world under the ``current`` profile (charge-on-success)."""
    with FakePictograph(seed=1, profile="current") as world:
        world.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        world.add_export(DATASET, EXPORT)
        yield world


@pytest.fixture
def client(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(max_retries=0) as sdk:
        yield sdk


@pytest.fixture
async def aclient(fake: FakePictograph) -> AsyncIterator[pictograph.AsyncClient]:
    async with fake.async_client(max_retries=0) as sdk:
        yield sdk
