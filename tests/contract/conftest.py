"""The contract suite's one fixture: a dataset and export to quote and refuse runs against.

On the fake they are made for each test. With ``--pictograph-live`` they must exist in
the account already, named by ``PICTOGRAPH_CONTRACT_DATASET`` and
``PICTOGRAPH_CONTRACT_EXPORT`` (a completed export of at least 5 images); tests that
need them are skipped when those are not set. Nothing here spends credit on a live
account: every live call is a read, a quote, or a request the API refuses.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import pytest

from pictograph_testing import FakePictograph

DATASET_ENV = "PICTOGRAPH_CONTRACT_DATASET"
EXPORT_ENV = "PICTOGRAPH_CONTRACT_EXPORT"


class TrainingData(NamedTuple):
    dataset: str
    export: str


@pytest.fixture
def training_data(request: pytest.FixtureRequest, pictograph_live: bool) -> TrainingData:
    """A dataset and a completed export of it that a run could train on."""
    if pictograph_live:
        dataset, export = os.environ.get(DATASET_ENV), os.environ.get(EXPORT_ENV)
        if not dataset or not export:
            pytest.skip(f"set {DATASET_ENV} and {EXPORT_ENV} to run this against the real API")
        return TrainingData(dataset, export)
    # Asked for by name, so a live run never sees this test use the fake.
    fake: FakePictograph = request.getfixturevalue("pictograph_fake")
    fake.add_dataset("contract-signs", images=12, completed_images=12, classes=["stop", "yield"])
    fake.add_export("contract-signs", "contract-v1")
    return TrainingData("contract-signs", "contract-v1")
