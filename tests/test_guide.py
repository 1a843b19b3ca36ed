"""Every code example of the training guide, run through the real SDK against the fake.

The guide builds its client with ``Client()``; here the fake's client stands in for it
(same class, bound to the fake). Each test follows one example and checks the outcome
the guide documents.
"""

from __future__ import annotations

import pictograph
import pytest
from pictograph.exceptions import (
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    ValidationError,
)
from pictograph.models.training import PipelineType

from pictograph_testing import FakePictograph
from tests.conftest import DATASET, EXPORT


def _queued_run(client: pictograph.Client, name: str = "yolox-run-1") -> str:
    return client.training.create(
        dataset_name=DATASET,
        export_name=EXPORT,
        pipeline_type="yolox",
        name=name,
        config={"epochs": 50},
        wait=False,
    ).id


def test_create_waits_for_a_completed_run(fake: FakePictograph, client: pictograph.Client) -> None:
    run = client.training.create(
        dataset_name="road-signs",
        export_name="road-signs-20260512-120000",
        pipeline_type="yolox",
        name="yolox-run-1",
        config={"epochs": 50},
        gpu_type="a10g",
        wait=True,
        poll_interval=5.0,
        timeout=7200.0,
    )
    assert run.status == "completed"
    assert run.name == "yolox-run-1"
    assert run.total_epochs == 50
    assert run.current_epoch == 50
    assert run.progress == 100
    assert run.gpu_type == "a10g"
    assert run.model_id is not None
    # The wait ran on the virtual clock: the run's minutes passed, no wall time did.
    assert run.training_time_seconds is not None
    assert fake.clock.monotonic() >= run.training_time_seconds


def test_create_without_wait_returns_a_queued_run(client: pictograph.Client) -> None:
    run = client.training.create(
        dataset_name=DATASET, export_name=EXPORT, pipeline_type="yolox", name="r", wait=False
    )
    assert run.status == "queued"
    assert run.progress == 0


def test_every_pipeline_of_the_guide_is_accepted(fake: FakePictograph) -> None:
    guide_pipelines: list[PipelineType] = [
        "yolox",
        "sm_pytorch",
        "classification",
        "rfdetr_detection",
        "rfdetr_segmentation",
    ]
    with fake.client(max_retries=0) as client:
        for pipeline in guide_pipelines:
            run = client.training.create(
                DATASET, EXPORT, pipeline_type=pipeline, name=f"{pipeline}-run"
            )
            assert run.status == "completed", pipeline


def test_detectron2_trains_but_sdk_1_69_cannot_parse_it(fake: FakePictograph) -> None:
    # The guide lists detectron2; SDK 1.69.146 dropped it from PipelineType, so the run
    # the classic profile answers with fails the SDK's own response validation.
    with (
        fake.client(max_retries=0) as client,
        pytest.raises(pictograph.exceptions.ServerError, match="TrainingRun"),
    ):
        # A pipeline the fake serves and the SDK's Literal does not list.
        client.training.create(DATASET, EXPORT, pipeline_type="detectron2", name="d2", wait=False)  # type: ignore[arg-type]
    assert fake.run("d2").status == "queued"
    assert [r.pipeline_type for r in fake.world.runs.values()] == ["detectron2"]


def test_gpu_tiers_of_the_guide(client: pictograph.Client) -> None:
    for gpu in ("a10g", "a100", "h100"):
        run = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name=f"on-{gpu}", gpu_type=gpu
        )
        assert run.status == "completed"
        assert run.gpu_type == gpu


def test_list_running_and_iter_all(fake: FakePictograph, client: pictograph.Client) -> None:
    first = _queued_run(client, "first")
    _queued_run(client, "second")
    fake.clock.advance(minutes=2)  # past the a10g cold start: both are training
    runs = client.training.list(limit=20, status="running")
    assert {r.name for r in runs} == {"first", "second"}
    client.training.cancel(run_id=first)
    seen = [(run.id, run.status, run.progress) for run in client.training.iter(page_size=50)]
    assert len(seen) == 2
    assert (first, "cancelled") == seen[1][:2]


def test_get_reports_progress(fake: FakePictograph, client: pictograph.Client) -> None:
    run_id = _queued_run(client)
    fake.clock.advance(minutes=3)
    run = client.training.get(run_id)
    assert run.status in {"pending", "queued", "running", "completed", "failed", "cancelled"}
    assert run.status == "running"
    assert 0 < run.progress < 100
    assert run.current_epoch is not None
    assert run.total_epochs is not None
    assert 0 < run.current_epoch <= run.total_epochs


def test_cancel_stops_the_worker_and_refunds_remaining_minutes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run_id = _queued_run(client)
    fake.clock.advance(minutes=2)
    cancelled = client.training.cancel(run_id)
    assert cancelled.status == "cancelled"
    operations = [(e.operation, e.amount) for e in client.credits.history()]
    refund = operations[0]
    assert refund[0] == "training_refund_a10g"
    assert refund[1] > 0
    assert operations[1][0] == "training_a10g_per_minute"
    assert operations[1][1] < 0
    assert refund[1] < -operations[1][1]  # two minutes were used and not refunded


def test_under_budget_run_is_refunded_as_a_positive_entry(client: pictograph.Client) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r")
    entries = [e for e in client.credits.history() if (e.metadata or {}).get("run_id") == run.id]
    assert [e.operation for e in entries] == ["training_refund_a10g", "training_a10g_per_minute"]
    assert entries[0].amount > 0


def test_wait_for_completion_then_get_the_model(client: pictograph.Client) -> None:
    run_id = _queued_run(client)
    run = client.training.wait_for_completion(run_id, timeout=3600.0)
    assert run.status == "completed"
    model = client.models.get(run.model_id)
    assert model.id == run.model_id
    assert model.status == "ready"


async def test_wait_for_completion_async(fake: FakePictograph) -> None:
    async with fake.async_client(max_retries=0) as client:
        run = await client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False
        )
        done = await client.training.wait_for_completion(run.id, timeout=3600.0)
        assert done.status == "completed"
        model = await client.models.get(done.model_id)
        assert model.name == "r"


def test_minimum_dataset_size_check(client: pictograph.Client) -> None:
    ds = client.datasets.get("road-signs")
    assert ds.completed_image_count >= 5
    assert ds.image_count == 20


def test_below_the_minimum_training_fails_with_a_validation_error(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("tiny", images=10, completed_images=4)
    fake.add_export("tiny", "v1", status_filter="complete")
    with pytest.raises(ValidationError) as caught:
        client.training.create("tiny", "v1", pipeline_type="yolox", name="r")
    assert caught.value.status_code == 422
    assert "at least 5 images" in caught.value.message


def test_cost_estimation(client: pictograph.Client) -> None:
    estimate = client.credits.estimate("training_a10g_per_minute", quantity=30)
    assert estimate.sufficient
    assert estimate.total_micro_usd == 30 * 5_000  # ~$0.30/h on the guide's a10g
    poor = FakePictograph(balance_usd=0.10)
    with poor.client(max_retries=0) as poor_client:
        estimate = poor_client.credits.estimate("training_a10g_per_minute", quantity=30)
        assert not estimate.sufficient
        message = f"Need {estimate.total_credits}, have {estimate.credits_remaining}"
        assert message == "Need 1, have 0"


def test_error_table(fake: FakePictograph, client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        client.training.create("no-such-dataset", EXPORT, pipeline_type="yolox", name="r")
    with pytest.raises(NotFoundError):
        client.training.create(DATASET, "no-such-export", pipeline_type="yolox", name="r")
    with pytest.raises(ValidationError) as bad_pipeline:
        # Deliberately a pipeline the SDK's Literal refuses: the fake must refuse it too.
        client.training.create(DATASET, EXPORT, pipeline_type="yolo9", name="r")  # type: ignore[arg-type]
    assert bad_pipeline.value.status_code == 422
    with pytest.raises(ValidationError):
        # Deliberately a tier the SDK's Literal refuses: the fake must refuse it too.
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", gpu_type="t4")  # type: ignore[arg-type]
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="slow", config={"epochs": 400}, wait=False
    )
    with pytest.raises(PollTimeoutError):
        client.training.wait_for_completion(run.id, timeout=600.0)
    assert client.training.get(run.id).status == "running"  # the run keeps going
    broke = FakePictograph(balance_usd=0.0)
    broke.add_dataset(DATASET, images=20, completed_images=20)
    broke.add_export(DATASET, EXPORT)
    with broke.client(max_retries=0) as broke_client, pytest.raises(PaymentRequiredError) as paid:
        broke_client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r")
    assert paid.value.credit_cost is not None
    assert paid.value.credit_cost > 0
    assert paid.value.credits_remaining == 0
    assert paid.value.unit == "micro_usd"
