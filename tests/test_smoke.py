from __future__ import annotations

import pictograph

from pictograph_testing import FakePictograph
from tests.conftest import DATASET, EXPORT


def test_create_and_wait_completes(fake: FakePictograph, client: pictograph.Client) -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="yolox-run-1", config={"epochs": 50}
    )
    assert run.status == "completed"
    assert run.model_id is not None


async def test_async_create_and_wait_completes(aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a")
    assert run.status == "completed"
