"""Fixtures for the training guide on any SDK release: a world per profile, the SDK's clients.

The matrix runner (``scripts/sdk_matrix.sh``) sets ``PICTOGRAPH_SDK_MATRIX`` to the
release it installed; a run whose interpreter imports another release stops before any
test, so a result is never filed under the wrong version.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pictograph
import pytest

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing._sdk.layout import optional_module, sdk_version

DATASET = "road-signs"
EXPORT = "road-signs-20260512-120000"
WORKFLOW_GRAPH: dict[str, Any] = {
    "version": 1,
    "nodes": [
        {"id": "src", "type": "source", "config": {"kind": "dataset", "dataset": DATASET}},
        {"id": "det", "type": "model", "config": {"model": "signs"}},
        {"id": "out", "type": "output", "config": {}},
    ],
    "edges": [{"source": "src", "target": "det"}, {"source": "det", "target": "out"}],
}
"""A workflow that can run once a model named ``signs`` is trained on the world's dataset."""

_expected = os.environ.get("PICTOGRAPH_SDK_MATRIX")
if _expected and _expected != sdk_version():
    raise pytest.UsageError(
        f"PICTOGRAPH_SDK_MATRIX={_expected} but this interpreter imports pictograph "
        f"{sdk_version()} from {pictograph.__file__}"
    )


def pytest_report_header() -> str:
    """Name the SDK release under test at the top of the run."""
    return f"pictograph SDK {sdk_version()}"


@pytest.fixture(params=["classic", "current"])
def profile(request: pytest.FixtureRequest) -> str:
    """The fake's profile: the guide's (``classic``) and today's API (``current``)."""
    name: str = request.param
    return name


@pytest.fixture
def world(profile: ProfileName, no_real_waiting: None) -> Iterator[FakePictograph]:
    """An active fake with a 20-image dataset (12 completed) and an export of it.

    Every test here also asserts that nothing sleeps for real: the SDK's waits, whatever
    its release, run on the fake's virtual clock.
    """
    with FakePictograph(seed=1, profile=profile) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        yield fake


@pytest.fixture
def sdk(world: FakePictograph) -> Iterator[pictograph.Client]:
    """The fake's ``pictograph.Client``, without retries."""
    with world.client(max_retries=0) as client:
        yield client


@pytest.fixture
async def async_sdk(world: FakePictograph) -> AsyncIterator[pictograph.AsyncClient]:
    """The fake's ``pictograph.AsyncClient``; skipped on releases without one (< 1.16)."""
    if optional_module("pictograph.aio") is None:
        pytest.skip(f"pictograph {sdk_version()} has no AsyncClient")
    async with world.async_client(max_retries=0) as client:
        yield client
