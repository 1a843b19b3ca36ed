"""The training guide's code, on every SDK release since 1.0.0, under both profiles.

The guide was written for SDKs before 1.61. Only calls every release has are made, and
ids go by keyword (``run_id=``, ``model_id=``): from 1.61 on, the first positional
argument of ``get`` / ``cancel`` / ``wait_for_completion`` is a name, and the keyword
works on every release. Billing is checked on the fake's ledger, not through the SDK,
so the check does not depend on how a release reads credit amounts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pytest
from pictograph.exceptions import (
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    ValidationError,
)

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import PIPELINES_BY_RELEASE, parse_version
from tests.matrix.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    import pictograph

_STATUSES = {"pending", "queued", "running", "completed", "failed", "cancelled"}


def _start(sdk: pictograph.Client, name: str, epochs: int = 50) -> str:
    run = sdk.training.create(
        dataset_name=DATASET,
        export_name=EXPORT,
        pipeline_type="yolox",
        name=name,
        config={"epochs": epochs},
        wait=False,
    )
    assert run.status == "queued"
    return run.id


def _run_entries(fake: FakePictograph, run_id: str) -> list[tuple[str, int]]:
    return [
        (e.operation, e.amount) for e in fake.ledger if (e.metadata or {}).get("run_id") == run_id
    ]


def test_create_waits_on_the_virtual_clock(world: FakePictograph, sdk: pictograph.Client) -> None:
    run = sdk.training.create(
        dataset_name=DATASET,
        export_name=EXPORT,
        pipeline_type="yolox",
        name="yolox-run-1",
        config={"epochs": 50},
        gpu_type="a10g",
        wait=True,
        poll_interval=5.0,
        timeout=7200.0,
    )
    assert run.status == "completed"
    assert (run.name, run.gpu_type, run.total_epochs) == ("yolox-run-1", "a10g", 50)
    assert run.model_id is not None
    assert world.clock.monotonic() > 60  # minutes of training passed, virtually


def test_create_without_wait_then_get_and_wait_for_completion(sdk: pictograph.Client) -> None:
    run_id = _start(sdk, "later")
    assert sdk.training.get(run_id=run_id).status in _STATUSES
    run = sdk.training.wait_for_completion(run_id=run_id, timeout=3600.0)
    assert run.status == "completed"
    model = sdk.models.get(model_id=run.model_id)
    assert model.id == run.model_id


def test_list_running_and_iter_all(world: FakePictograph, sdk: pictograph.Client) -> None:
    first = _start(sdk, "first")
    _start(sdk, "second")
    world.clock.advance(minutes=2)  # past the a10g cold start: both are training
    running = sdk.training.list(limit=20, status="running")
    assert {r.name for r in running} == {"first", "second"}
    progress = [(run.id, run.status, run.progress) for run in sdk.training.iter(page_size=50)]
    assert len(progress) == 2
    assert first in {run_id for run_id, _, _ in progress}


def test_cancel_stops_the_run_and_refunds_what_the_profile_charged(
    world: FakePictograph, sdk: pictograph.Client, profile: ProfileName
) -> None:
    run_id = _start(sdk, "stopped")
    world.clock.advance(minutes=2)
    assert sdk.training.cancel(run_id=run_id).status == "cancelled"
    entries = _run_entries(world, run_id)
    if profile == "classic":
        # Pre-charged at create; the unused minutes come back as a positive entry.
        (charge, debit), (refund, credit) = entries
        assert (charge, refund) == ("training_a10g_per_minute", "training_refund_a10g")
        assert 0 < credit < -debit
        # And as the release reads its ledger, in its own unit: a positive refund entry.
        history = {e.operation: e.amount for e in sdk.credits.history()}
        assert history["training_refund_a10g"] > 0
        assert history["training_a10g_per_minute"] < 0
    else:
        assert entries == []  # charge-on-success: a cancelled run is free


def test_dataset_size_and_the_minimum(
    world: FakePictograph, sdk: pictograph.Client, profile: ProfileName
) -> None:
    assert sdk.datasets.get(DATASET).completed_image_count >= 5
    world.add_dataset("tiny", images=10, completed_images=4)
    world.add_export("tiny", "v1", status_filter="complete")
    if profile == "classic":
        with pytest.raises(ValidationError) as caught:
            sdk.training.create("tiny", "v1", pipeline_type="yolox", name="small", wait=False)
        assert caught.value.status_code == 422
    else:
        run = sdk.training.create("tiny", "v1", pipeline_type="yolox", name="small", wait=False)
        assert run.status == "queued"


def test_cost_estimation(sdk: pictograph.Client, profile: ProfileName) -> None:
    estimate = sdk.credits.estimate("training_a10g_per_minute", quantity=30)
    assert estimate.sufficient
    assert isinstance(estimate.total_credits, int)
    assert isinstance(estimate.credits_remaining, int)
    with FakePictograph(seed=1, profile=profile, balance_usd=0.10) as poor:
        poor_sdk = poor.client(max_retries=0)
        estimate = poor_sdk.credits.estimate("training_a10g_per_minute", quantity=30)
        assert not estimate.sufficient
        # The guide's message, "Need {total_credits}, have {credits_remaining}", in the
        # release's own unit (whole credits in 1.0.x, whole dollars after): need > have.
        assert estimate.total_credits > estimate.credits_remaining


def test_missing_dataset_or_export_is_404(sdk: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as dataset:
        sdk.training.create("no-such-dataset", EXPORT, pipeline_type="yolox", name="r")
    with pytest.raises(NotFoundError) as export:
        sdk.training.create(DATASET, "no-such-export", pipeline_type="yolox", name="r")
    assert dataset.value.status_code == export.value.status_code == 404


def test_bad_pipeline_or_gpu_is_422(sdk: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as pipeline:
        sdk.training.create(DATASET, EXPORT, pipeline_type="yolo9", name="r")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as gpu:
        sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", gpu_type="t4")  # type: ignore[arg-type]
    assert pipeline.value.status_code == gpu.value.status_code == 422


def test_insufficient_credits_is_402(profile: ProfileName) -> None:
    with FakePictograph(seed=1, profile=profile, balance_usd=0.0) as broke:
        broke.add_dataset(DATASET, images=20, completed_images=20)
        broke.add_export(DATASET, EXPORT)
        with pytest.raises(PaymentRequiredError) as paid:
            broke.client(max_retries=0).training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="r"
            )
    assert paid.value.status_code == 402


def test_wait_past_the_timeout_raises_and_the_run_keeps_going(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    run_id = _start(sdk, "slow", epochs=400)
    with pytest.raises(PollTimeoutError):
        sdk.training.wait_for_completion(run_id=run_id, timeout=600.0)
    assert 600 <= world.clock.monotonic() < 700  # the deadline fell on the virtual clock
    assert sdk.training.get(run_id=run_id).status == "running"


async def test_async_create_waits_then_the_model(async_sdk: pictograph.AsyncClient) -> None:
    run = await async_sdk.training.create(
        dataset_name=DATASET,
        export_name=EXPORT,
        pipeline_type="yolox",
        name="async-run",
        config={"epochs": 50},
        wait=True,
        timeout=7200.0,
    )
    assert run.status == "completed"
    model = await async_sdk.models.get(model_id=run.model_id)
    assert model.id == run.model_id


async def test_async_wait_for_completion_and_timeout(
    world: FakePictograph, async_sdk: pictograph.AsyncClient
) -> None:
    quick = await async_sdk.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="quick", wait=False
    )
    done = await async_sdk.training.wait_for_completion(run_id=quick.id, timeout=3600.0)
    assert done.status == "completed"
    slow = await async_sdk.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="slow", config={"epochs": 400}, wait=False
    )
    with pytest.raises(PollTimeoutError):
        await async_sdk.training.wait_for_completion(run_id=slow.id, timeout=600.0)
    assert (await async_sdk.training.get(run_id=slow.id)).status == "running"


_MODELS = {
    # The key a reply's object comes under, in any release: the release's model for it.
    "training_run": ("pictograph.models.training", "TrainingRun"),
    "training_runs": ("pictograph.models.training", "TrainingRun"),
    "model": ("pictograph.models.model", "Model"),
    "models": ("pictograph.models.model", "Model"),
    "dataset": ("pictograph.models.dataset", "Dataset"),
    "datasets": ("pictograph.models.dataset", "Dataset"),
    "entries": ("pictograph.models.credit", "CreditLedgerEntry"),
}
_DATA_MODELS = {
    "training": ("pictograph.models.training", "TrainingRun"),
    "models": ("pictograph.models.model", "Model"),
    "datasets": ("pictograph.models.dataset", "Dataset"),
}


def _model(where: tuple[str, str]) -> type[Any]:
    module, name = where
    found: type[Any] = getattr(importlib.import_module(module), name)
    return found


def test_every_reply_validates_against_the_releases_own_models(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    run = sdk.training.create(
        dataset_name=DATASET, export_name=EXPORT, pipeline_type="yolox", name="r", wait=True
    )
    sdk.training.list()
    sdk.models.get(model_id=run.model_id)
    sdk.datasets.get(DATASET)
    sdk.credits.history()
    sdk.credits.estimate("training_a10g_per_minute", quantity=30)
    checked = 0
    for call in world.calls:
        body = call.response_json()
        if not isinstance(body, dict):
            continue
        resource = call.path.split("/")[4]
        for key, value in body.items():
            where = _MODELS.get(key) or (_DATA_MODELS.get(resource) if key == "data" else None)
            if where is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                _model(where).model_validate(item)
                checked += 1
        if call.path.endswith("/credits/estimate"):
            _model(("pictograph.models.credit", "CreditEstimate")).model_validate(body)
            checked += 1
    assert checked >= 6


def test_detectron2_runs_parse_on_the_releases_that_know_it(world: FakePictograph) -> None:
    # The guide's pipeline table: detectron2 left the SDK's PipelineType in 1.8.1
    # (declared once, in the route table's pipeline vocabulary).
    readable = PIPELINES_BY_RELEASE.readable("detectron2", parse_version(sdk_version()))
    if not readable or world.profile != "classic":
        pytest.skip("only releases up to 1.8.0 know detectron2 (and only classic runs it)")
    with world.client(max_retries=0) as sdk:
        run = sdk.training.create(
            dataset_name=DATASET,
            export_name=EXPORT,
            # A pipeline of releases up to 1.8.0 that today's SDK's Literal lacks.
            pipeline_type="detectron2",  # type: ignore[arg-type]
            name="masks",
            gpu_type="a100",
            wait=False,
        )
        pipeline: str = run.pipeline_type  # as read: a pipeline today's Literal lacks
        assert pipeline == "detectron2"
        assert [r.pipeline_type for r in sdk.training.list()] == ["detectron2"]
