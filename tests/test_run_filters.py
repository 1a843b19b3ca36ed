"""Filtered run pages read per-filter indexes: each one equals the filter over every run.

Runs on two datasets end every way a run ends (completed, failed by a fault, cancelled)
or stay live on too few workers (running, queued), and then every combination of
``status`` and ``dataset_name`` is listed through the SDK and compared with the plain
filter of the full listing, newest first, as the clock moves.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from pictograph_testing import FakePictograph
from pictograph_testing.world.entities import RUN_STATUSES
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    import pictograph
    from pictograph.models.training import TrainingRun

BIRDS = "birds"


def _world() -> FakePictograph:
    fake = FakePictograph(seed=3, balance_usd=1000, gpu_workers={"a10g": 3})
    fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
    fake.add_export(DATASET, EXPORT)
    fake.add_dataset(BIRDS, images=10, completed_images=10, classes=["gull"])
    fake.add_export(BIRDS, "birds-v1")
    return fake


def _start(client: pictograph.Client, dataset: str, name: str) -> TrainingRun:
    export = EXPORT if dataset == DATASET else "birds-v1"
    return client.training.create(
        dataset, export, pipeline_type="yolox", gpu_type="a10g", name=name, wait=False
    )


def _check_every_filter(client: pictograph.Client, on: dict[str, str]) -> int:
    """Compare every filter with the full listing; ``on`` maps run ids to datasets."""
    everything = list(client.training.list(limit=1000))
    checked = 0
    for status, dataset in itertools.product((None, *RUN_STATUSES), (None, DATASET, BIRDS)):
        listed = client.training.list(status=status, dataset_name=dataset, limit=1000)
        expected = [
            run.id
            for run in everything
            if (status is None or run.status == status)
            and (dataset is None or on[run.id] == dataset)
        ]
        assert [run.id for run in listed] == expected, (status, dataset)
        checked += len(expected)
    return checked


def test_every_filter_equals_the_filter_over_every_run() -> None:
    with _world() as fake, fake.client(max_retries=0) as client:
        on = {}
        runs = []
        for i in range(8):
            dataset = (DATASET, BIRDS)[i % 2]
            runs.append(_start(client, dataset, f"run-{i}"))
            on[runs[-1].id] = dataset
        fake.faults.fail_run(runs[1].id, epoch=1)
        client.training.cancel(runs[6].id)
        # Each run shows four times: unfiltered and under its status, each for all
        # datasets and for its own.
        assert _check_every_filter(client, on) == 4 * 8

        fake.clock.advance(minutes=3)  # past the cold start: a run on each of three workers
        assert len(client.training.list(status="running")) == 3
        _check_every_filter(client, on)

        fake.clock.advance(hours=6)  # all but the cancelled one have ended
        assert not client.training.list(status="queued")
        assert _check_every_filter(client, on) == 4 * 8
        assert [r.id for r in client.training.list(status="failed")] == [runs[1].id]


async def test_async_filters_read_the_same_runs() -> None:
    with _world() as fake:
        async with fake.async_client(max_retries=0) as client:
            first = await client.training.create(
                BIRDS, "birds-v1", pipeline_type="yolox", name="a", wait=False
            )
            second = await client.training.create(
                BIRDS, "birds-v1", pipeline_type="yolox", name="a", wait=False
            )
            await client.training.cancel(first.id)

            cancelled = await client.training.list(status="cancelled", dataset_name=BIRDS)
            live = await client.training.list(status="queued", dataset_name=BIRDS)

            assert [r.id for r in cancelled] == [first.id]
            assert [r.id for r in live] == [second.id]
            assert await client.training.list(status="cancelled", dataset_name=DATASET) == []
            assert (await client.training.get("a")).id == second.id  # the newest of the name
